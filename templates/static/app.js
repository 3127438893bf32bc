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
  // Charts: the value nearest the pointer, with its time (the data come
  // in the SVG's data-pts attribute as "x,y,label;…" in its own units).
  document.querySelectorAll("svg.chart[data-pts]").forEach(chartHover);
  // Refresh the status page every minute.
  if (document.querySelector(".charts")) {
    setTimeout(function () { window.location.reload(); }, 60000);
  }
});

var SVGNS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs) {
  var el = document.createElementNS(SVGNS, name);
  Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
  return el;
}

function chartHover(svg) {
  var pts = svg.getAttribute("data-pts").split(";").map(function (s) {
    var a = s.split(",");
    return { x: parseFloat(a[0]), y: parseFloat(a[1]), label: a.slice(2).join(",") };
  });
  var vb = svg.viewBox.baseVal;
  var g = svgEl("g", { "class": "hover", visibility: "hidden" });
  var rule = svgEl("line", { "class": "rule", y1: 12, y2: 140 });
  var dot = svgEl("circle", { "class": "hdot", r: 4.5 });
  var box = svgEl("rect", { "class": "tip", rx: 4, height: 20 });
  var text = svgEl("text", { "class": "tiptext" });
  g.appendChild(rule); g.appendChild(dot); g.appendChild(box); g.appendChild(text);
  svg.appendChild(g);
  function show(ev) {
    var r = svg.getBoundingClientRect();
    if (!r.width) { return; }
    var x = vb.x + (ev.clientX - r.left) * vb.width / r.width;
    var best = pts[0];
    pts.forEach(function (p) { if (Math.abs(p.x - x) < Math.abs(best.x - x)) { best = p; } });
    rule.setAttribute("x1", best.x); rule.setAttribute("x2", best.x);
    dot.setAttribute("cx", best.x); dot.setAttribute("cy", best.y);
    text.textContent = best.label;
    var w = text.getComputedTextLength() + 12;
    var left = Math.min(Math.max(best.x - w / 2, vb.x + 2), vb.x + vb.width - w - 2);
    box.setAttribute("x", left); box.setAttribute("y", 0); box.setAttribute("width", w);
    text.setAttribute("x", left + 6); text.setAttribute("y", 14);
    g.setAttribute("visibility", "visible");
    svg.setAttribute("data-hover", best.label);
  }
  svg.addEventListener("pointermove", show);
  svg.addEventListener("pointerdown", show);
  svg.addEventListener("pointerleave", function () { g.setAttribute("visibility", "hidden"); });
}
