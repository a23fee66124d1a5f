export type WhereOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';

/** One `key<op>value` condition; `number` is set (canonical text) when the value text is a finite number. */
export interface WhereCondition {
  key: string;
  op: WhereOperator;
  text: string;
  number: string | undefined;
}
