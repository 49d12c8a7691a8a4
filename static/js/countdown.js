/* One code a minute per phone: two places wait it out, counting down while data-wait seconds remain.
 * - The code page's "send a new code" link (templates/accounts/code.html, #resend): replaced by "you can ask for a
 *   new code in N seconds" until zero, then back.
 * - The login forms' "send the code" button (templates/accounts/_form.html, #send-code) when this browser was just
 *   sent a code: it reads "send again in N s" and does not submit until zero (aria-disabled, so it stays in the tab
 *   order and is announced as unavailable); while another number is typed it works (the limit is per phone).
 * Without this script the link and the button always work, a hint says to wait a minute, and the server explains
 * a request made too soon.
 */
(function () {
  "use strict";
  if (!document.querySelector) { return; }

  function countdown(left, tick, done) {
    tick(left);
    var timer = window.setInterval(function () {
      left -= 1;
      if (left > 0) { tick(left); return; }
      window.clearInterval(timer);
      done();
    }, 1000);
  }

  var box = document.getElementById("resend");
  var wait = box ? parseInt(box.getAttribute("data-wait"), 10) || 0 : 0;
  if (wait > 0) {
    var link = document.getElementById("resend-link");
    var hint = document.getElementById("resend-wait");
    var waiting = document.createElement("span");
    waiting.id = "resend-countdown";
    waiting.className = "hint";
    box.insertBefore(waiting, link);
    link.hidden = true;
    if (hint) { hint.hidden = true; }
    countdown(wait, function (left) {
      waiting.textContent = box.getAttribute("data-waiting").replace("{s}", String(left));
    }, function () {
      waiting.remove();
      link.hidden = false;
    });
  }

  var button = document.getElementById("send-code");
  wait = button ? parseInt(button.getAttribute("data-wait"), 10) || 0 : 0;
  if (wait > 0) {
    var label = button.textContent;
    var phone = button.form.querySelector("input[name='phone']");
    var sentTo = button.getAttribute("data-sent-to") || "";  // masked: 138****0001
    var sameAsSent = function () {
      var typed = phone ? phone.value.replace(/\D/g, "") : "";
      if (!typed) { return true; }
      if (typed.length !== sentTo.length) { return false; }
      for (var i = 0; i < typed.length; i += 1) {
        if (sentTo.charAt(i) !== "*" && sentTo.charAt(i) !== typed.charAt(i)) { return false; }
      }
      return true;
    };
    var waiting = function () { return wait > 0 && sameAsSent(); };
    var render = function () {
      if (waiting()) {
        button.textContent = button.getAttribute("data-waiting").replace("{s}", String(wait));
        button.setAttribute("aria-disabled", "true");
        button.classList.add("waiting");
      } else {
        button.textContent = label;
        button.removeAttribute("aria-disabled");
        button.classList.remove("waiting");
      }
    };
    button.form.addEventListener("submit", function (event) {
      if (waiting()) { event.preventDefault(); }
    });
    if (phone) { phone.addEventListener("input", render); }
    countdown(wait, function (left) { wait = left; render(); }, function () { wait = 0; render(); });
  }
}());
