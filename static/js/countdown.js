/* The "send a new code" link of the code page (templates/accounts/code.html) waits out the one-code-a-minute limit:
 * while data-wait seconds remain it is replaced by "you can ask for a new code in N seconds", counting down, and
 * comes back at zero. Without this script the link is always there and a hint says to wait a minute.
 */
(function () {
  "use strict";
  var box = document.getElementById("resend");
  if (!box || !document.querySelector) { return; }
  var link = document.getElementById("resend-link");
  var hint = document.getElementById("resend-wait");
  var left = parseInt(box.getAttribute("data-wait"), 10) || 0;
  if (left <= 0) { return; }
  var waiting = document.createElement("span");
  waiting.id = "resend-countdown";
  waiting.className = "hint";
  box.insertBefore(waiting, link);
  link.hidden = true;
  if (hint) { hint.hidden = true; }
  function show() { waiting.textContent = box.getAttribute("data-waiting").replace("{s}", String(left)); }
  show();
  var timer = window.setInterval(function () {
    left -= 1;
    if (left > 0) { show(); return; }
    window.clearInterval(timer);
    waiting.remove();
    link.hidden = false;
  }, 1000);
}());
