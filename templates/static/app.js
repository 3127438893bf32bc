// ser web console: conveniences only — every page works without this.
"use strict";
document.documentElement.classList.add("js");
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
  // The navigation folds behind the Menu button on narrow screens (the
  // stylesheet shows the button there only).
  var toggle = document.getElementById("menu-toggle");
  var nav = document.getElementById("nav");
  if (toggle && nav) {
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // Refresh the status page every minute.
  if (document.querySelector(".charts")) {
    setTimeout(function () { window.location.reload(); }, 60000);
  }
});
