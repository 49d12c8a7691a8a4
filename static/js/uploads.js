/* Progressive enhancement of the material upload slots (templates/materials/_slot.html).
 *
 * Without this script every slot still works: its controls post a normal multipart form. With it, files chosen
 * or dropped onto a slot are sent at once, one XMLHttpRequest per file in turn with a progress bar, to the same route
 * with "Accept: application/json"; the answer adds the file to the list or shows the refusal next to the slot.
 * No page reload, so what the applicant typed in the main form stays. Any browser lacking what this needs keeps
 * the plain form.
 */
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !document.querySelector) { return; }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) { node.className = className; }
    return node;
  }

  function showErrors(slot, messages, notes) {
    var box = slot.querySelector("[data-errors]");
    box.textContent = "";
    messages.forEach(function (message) { box.appendChild(text("p", message, "field-error")); });
    (notes || []).forEach(function (message) { box.appendChild(text("p", message, "field-note")); });
  }

  function markUploaded(slot) {
    /* the material is now provided online: keep the main form's choice in step, so saving does not undo it */
    var radios = document.querySelectorAll('input[type="radio"][name="' + slot.getAttribute("data-mode-input") + '"]');
    Array.prototype.forEach.call(radios, function (radio) { radio.checked = radio.value === "upload"; });
  }

  function addFile(slot, form, file) {
    var item = document.createElement("li");
    item.className = "file";
    var link = text("a", file.name);
    link.href = file.url + "?inline=1";
    link.target = "_blank";
    link.rel = "noopener";
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(text("span", Math.round(file.size / 1024) + " KB", "hint"));
    /* removing posts a small form of its own (with the page's CSRF token), as without JavaScript */
    var remove = document.createElement("form");
    remove.method = "post";
    remove.action = file.remove_url;
    remove.id = "remove-" + file.id;
    remove.appendChild(form.querySelector('input[name="csrf_token"]').cloneNode());
    document.body.appendChild(remove);
    var button = text("button", slot.getAttribute("data-remove-label"), "link");
    button.type = "submit";
    button.setAttribute("form", remove.id);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(button);
    slot.querySelector("[data-files]").appendChild(item);
  }

  function isEmpty(row) {
    return Array.prototype.every.call(row.querySelectorAll("input, select, textarea"), function (input) {
      if (input.type === "radio" || input.type === "checkbox") { return !input.checked; }
      return input.tagName === "SELECT" ? input.selectedIndex <= 0 || !input.value : !input.value;
    });
  }

  function fillRow(prefill, notes) {
    /* an e-receipt's invoice, which the server also saved into the draft: put it into the page's rows too, so
       saving the page keeps it: the row already holding its number, else the first empty one, else a new one
       (rows.js adds it) */
    var table = document.getElementById(prefill.table);
    if (!table) { return; }
    var rows = Array.prototype.slice.call(table.querySelectorAll("fieldset.row-card"));
    var row = rows.filter(function (r) {
      var number = r.querySelector('[name$="-c_number"]');
      return number && number.value.replace(/\s/g, "").toUpperCase() === prefill.values.number.toUpperCase();
    })[0] || rows.filter(isEmpty)[0];
    var add = table.querySelector("button[value^='add_row:']");
    if (!row && add && add.type === "button") {
      add.click();
      rows = table.querySelectorAll("fieldset.row-card");
      row = rows[rows.length - 1];
    }
    if (!row) { return; }
    Object.keys(prefill.values).forEach(function (key) {
      var value = prefill.values[key];
      Array.prototype.forEach.call(row.querySelectorAll('[name$="-c_' + key + '"]'), function (input) {
        if (input.type === "radio" || input.type === "checkbox") { input.checked = input.value === value; }
        else { input.value = value; }
      });
    });
    notes.push(prefill.message);
  }

  function send(slot, form, file, errors, notes, done) {
    var most = parseInt(slot.getAttribute("data-max-bytes"), 10);
    if (most && file.size > most) {
      /* the server would refuse it unread, and may cut the connection doing so: say why at once */
      errors.push(file.name + ": " + slot.getAttribute("data-too-large"));
      done();
      return;
    }
    var row = document.createElement("li");
    row.className = "file uploading";
    row.appendChild(text("span", file.name + " "));
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    row.appendChild(bar);
    slot.querySelector("[data-files]").appendChild(row);

    var data = new FormData();
    data.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
    data.append("file", file, file.name);
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) { bar.value = Math.round(100 * event.loaded / event.total); }
    });
    request.addEventListener("load", function () {
      row.parentNode.removeChild(row);
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (answer && answer.files) {
        answer.files.forEach(function (stored) {
          addFile(slot, form, stored);
          if (stored.prefill) { fillRow(stored.prefill, notes); }
        });
        if (answer.files.length) { markUploaded(slot); }
      }
      if (answer && answer.refused && answer.refused.length) {
        Array.prototype.push.apply(errors, answer.refused);
      } else if (!answer) {
        /* not our JSON (a 413 page, a lost session): let the plain form say what is wrong */
        errors.push(slot.getAttribute("data-failed") + " (" + request.status + ")");
      }
      done();
    });
    request.addEventListener("error", function () {
      row.parentNode.removeChild(row);
      errors.push(slot.getAttribute("data-failed"));
      done();
    });
    request.send(data);
  }

  function sendAll(slot, form, files) {
    /* one file after another: on a phone's connection each arrives sooner, and the case is changed by one
       upload at a time */
    var errors = [];
    var notes = [];
    var queue = Array.prototype.slice.call(files);
    if (!queue.length) { return; }
    showErrors(slot, []);
    function next() {
      if (!queue.length) { showErrors(slot, errors, notes); return; }
      send(slot, form, queue.shift(), errors, notes, next);
    }
    next();
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-upload-slot]"), function (slot) {
    var form = document.getElementById(slot.getAttribute("data-form"));
    if (!form) { return; }
    var inputs = document.querySelectorAll('input[type="file"][form="' + form.id + '"]');
    Array.prototype.forEach.call(inputs, function (input) {
      input.addEventListener("change", function () {
        sendAll(slot, form, input.files);
        input.value = "";
      });
    });
    var button = slot.querySelector("[data-upload-button]");
    if (button) { button.hidden = true; }  /* files go as soon as they are chosen */
    /* the hint for this way of uploading: no reload, nothing typed is lost */
    var plain = slot.querySelector("[data-hint-plain]");
    var scripted = slot.querySelector("[data-hint-script]");
    if (plain && scripted) { plain.hidden = true; scripted.hidden = false; }
    /* the controls follow the material's choice: nothing to upload for paper, a commitment or "does not apply" */
    var controls = slot.querySelector("[data-upload-controls]");
    var choices = document.querySelectorAll('input[type="radio"][name="' + slot.getAttribute("data-mode-input") + '"]');
    function follow() {
      var chosen = Array.prototype.filter.call(choices, function (radio) { return radio.checked; })[0];
      if (controls) { controls.hidden = !!chosen && chosen.value !== "upload"; }
    }
    Array.prototype.forEach.call(choices, function (radio) { radio.addEventListener("change", follow); });
    follow();
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    slot.addEventListener("dragover", function (event) {
      event.preventDefault();
      slot.classList.add("dragging");
    });
    slot.addEventListener("dragleave", function () { slot.classList.remove("dragging"); });
    slot.addEventListener("drop", function (event) {
      event.preventDefault();
      slot.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files) { sendAll(slot, form, event.dataTransfer.files); }
    });
  });
}());
