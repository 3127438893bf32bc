// ser web console: conveniences only — every page works without this.
"use strict";
document.addEventListener("submit", function (ev) {
  var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    ev.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  // Disable submit buttons while a form is sent (sending a message waits
  // for the recipient's answer).
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented) { return; }
      f.querySelectorAll("button[type=submit]").forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
  // Refresh the status page every minute.
  if (document.querySelector(".charts")) {
    setTimeout(function () { window.location.reload(); }, 60000);
  }
});
