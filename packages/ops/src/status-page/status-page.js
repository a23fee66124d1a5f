// The status page's entry script (a module: deferred, strict, same-origin imports only, as the
// page's Content Security Policy allows).
import { startDeadLetters } from './dead-letters.js';
import { poll, showLive } from './status-view.js';

startDeadLetters();
// A hidden tab stops polling; coming back refreshes at once.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void poll();
});
setInterval(showLive, 1000);
void poll();
