// A table box that really scrolls sideways (.table-scroll) becomes focusable and named, so a keyboard can
// scroll it (axe: scrollable-region-focusable), and shows its hint ("swipe to see more"). Boxes that fit are
// left alone: no useless stop in the tab order. Re-checked when the window changes size (a phone turned).
(function () {
  "use strict";
  var script = document.currentScript;
  var hint = (script && script.getAttribute("data-hint")) || "";
  var named = (script && script.getAttribute("data-region")) || "{name}";  // "Table: {name}", translated
  function labelOf(box) {
    var caption = box.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var node = box;
    while (node) {
      var prev = node.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
        var inner = prev.querySelectorAll("h1,h2,h3,h4,h5,h6");
        if (inner.length) return inner[inner.length - 1].textContent.trim();
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
      if (node && node.tagName === "MAIN") break;
    }
    return document.title;
  }
  function update() {
    var used = {};
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("scrolls", scrolls);
      if (scrolls) {
        var label = named.replace("{name}", box.getAttribute("data-label") || labelOf(box));
        used[label] = (used[label] || 0) + 1;
        if (used[label] > 1) label += " (" + used[label] + ")";
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label);
        var next = box.nextElementSibling;
        if (hint && !(next && next.classList.contains("scroll-hint"))) {
          var p = document.createElement("p");
          p.className = "scroll-hint";
          p.textContent = hint;
          box.insertAdjacentElement("afterend", p);
        }
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  var timer = null;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(update, 150); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", update);
  else update();
})();
