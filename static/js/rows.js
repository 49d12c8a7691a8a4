// Tables of a form (e.g. the staff of a unit form): "Add a row" adds an empty row in the page, without a round
// trip (issue 17, point 6). Without JavaScript the same button is "Save and add a row" and the server adds it.
// The new row is a copy of the last one with its values, errors, saved notes and "remove" box taken out, and
// its names moved to the next index (f_staff-2-c_name), which the server's form reads like any posted row.
(function () {
  "use strict";
  if (window.portalRows) return;  // the script is included once per table
  window.portalRows = true;

  function renumber(node, prefix, from, to) {
    var old = prefix + "-" + from + "-", now = prefix + "-" + to + "-";
    node.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && value.indexOf(old) !== -1) el.setAttribute(attr, value.split(old).join(now));
      });
    });
  }

  function empty(row) {
    row.querySelectorAll(".field-error, .saved").forEach(function (el) { el.remove(); });
    row.querySelectorAll("input[name$='-remove']").forEach(function (box) {
      var holder = box.closest(".choices.single");
      (holder || box).remove();
    });
    row.querySelectorAll("input, select, textarea").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var described = (el.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && row.querySelector("[id='" + id + "']");
      });
      if (described.length) el.setAttribute("aria-describedby", described.join(" "));
      else el.removeAttribute("aria-describedby");
      if (el.type === "radio" || el.type === "checkbox") el.checked = false;
      else if (el.tagName === "SELECT") el.selectedIndex = 0;
      else el.value = "";
    });
  }

  function setUp(table) {
    var button = table.querySelector("button[value^='add_row:']");
    if (!button) return;
    var prefix = table.id, max = parseInt(table.getAttribute("data-max-rows"), 10) || 50;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    button.parentNode.appendChild(status);
    button.type = "button";
    button.removeAttribute("name");
    button.textContent = button.getAttribute("data-add-label");
    button.addEventListener("click", function () {
      var rows = table.querySelectorAll("fieldset.row-card");
      var last = rows[rows.length - 1];
      if (!last || rows.length >= max) return;
      var row = last.cloneNode(true);
      renumber(row, prefix, rows.length - 1, rows.length);
      empty(row);
      var legend = row.querySelector("legend");
      var label = legend.textContent.replace(/\d+/, String(rows.length + 1));
      legend.textContent = label;
      last.insertAdjacentElement("afterend", row);
      status.textContent = label;
      if (rows.length + 1 >= max) button.parentNode.hidden = true;
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
  }

  function start() { document.querySelectorAll("fieldset.table-field[data-max-rows]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
