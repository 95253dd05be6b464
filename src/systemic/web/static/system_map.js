/* The system map page: drag factors, zoom and pan, move with the keyboard, filter,
   export PNG, and save where factors sit. Works on the SVG the server drew
   (systemic.report.system_map_svg); the link geometry below mirrors its _link_svg.
   Shipped with the package: no CDN, no other library. */
(function () {
  "use strict";
  if (window.systemicMap) { return; }

  var BOX_W = 150, BOX_H = 62, HALF_W = BOX_W / 2 + 4, HALF_H = BOX_H / 2 + 4;
  var SVGNS = "http://www.w3.org/2000/svg";

  function csrfToken() {
    var raw = document.body.getAttribute("hx-headers");
    if (!raw) { return ""; }
    try { return JSON.parse(raw)["X-CSRF-Token"] || ""; } catch (e) { return ""; }
  }

  function boxExit(hw, hh, dx, dy) {
    var tx = dx ? hw / Math.abs(dx) : Infinity;
    var ty = dy ? hh / Math.abs(dy) : Infinity;
    return Math.min(tx, ty);
  }

  function Map(figure) {
    this.figure = figure;
    this.svg = figure.querySelector("svg.system-map");
    this.mapId = figure.getAttribute("data-map-id");
    this.canEdit = figure.getAttribute("data-can-edit") === "true";
    this.status = document.getElementById("map-status");
    this.pos = {};
    this.factors = {};
    this.linksOf = {};
    this.pending = {};
    this.saveTimer = null;
    var vb = this.svg.getAttribute("viewBox").split(/\s+/).map(Number);
    this.full = { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
    this.view = { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
    this.setUp();
  }

  Map.prototype.say = function (text) {
    if (this.status) { this.status.textContent = text; }
  };

  Map.prototype.setUp = function () {
    var self = this;
    var svg = this.svg;
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-roledescription", "system map");
    svg.querySelectorAll("g.factor").forEach(function (g) {
      var key = g.getAttribute("data-key");
      var m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(g.getAttribute("transform"));
      self.pos[key] = [parseFloat(m[1]), parseFloat(m[2])];
      self.factors[key] = g;
      self.linksOf[key] = [];
      var name = g.querySelector("title").textContent;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-roledescription", "factor");
      g.setAttribute("aria-label", name + (self.canEdit ? ". Arrow keys move it; Shift moves further." : ""));
    });
    svg.querySelectorAll("g.link").forEach(function (g) {
      var s = g.getAttribute("data-source"), t = g.getAttribute("data-target");
      if (self.linksOf[s]) { self.linksOf[s].push(g); }
      if (self.linksOf[t] && t !== s) { self.linksOf[t].push(g); }
    });
    this.applyView();
    if (this.canEdit) { this.enableDragging(); }
    this.enablePanZoom();
    var placed = document.getElementById("map-unsaved");
    if (placed && this.canEdit) {
      var positions = JSON.parse(placed.getAttribute("data-positions") || "{}");
      var count = Object.keys(positions).length;
      if (count) {
        Object.keys(positions).forEach(function (k) { self.pending[k] = positions[k]; });
        this.save(count + (count === 1 ? " new factor was" : " new factors were") + " placed automatically and saved.");
      }
    }
  };

  Map.prototype.applyView = function () {
    var v = this.view;
    this.svg.setAttribute("viewBox", [v.x, v.y, v.w, v.h].map(function (n) { return n.toFixed(1); }).join(" "));
  };

  Map.prototype.fit = function () {
    this.view = { x: this.full.x, y: this.full.y, w: this.full.w, h: this.full.h };
    this.applyView();
  };

  Map.prototype.fitTo = function (keys) {
    var self = this;
    if (!keys.length) { this.fit(); return; }
    var xs = keys.map(function (k) { return self.pos[k][0]; }), ys = keys.map(function (k) { return self.pos[k][1]; });
    var x0 = Math.min.apply(null, xs) - BOX_W, x1 = Math.max.apply(null, xs) + BOX_W;
    var y0 = Math.min.apply(null, ys) - BOX_H * 2, y1 = Math.max.apply(null, ys) + BOX_H * 2;
    var rect = this.svg.getBoundingClientRect(), aspect = rect.width / Math.max(rect.height, 1);
    var w = Math.max(x1 - x0, 600), h = Math.max(y1 - y0, 300);
    if (w / h > aspect) { h = w / aspect; } else { w = h * aspect; }
    this.view = { x: (x0 + x1) / 2 - w / 2, y: (y0 + y1) / 2 - h / 2, w: w, h: h };
    this.applyView();
  };

  Map.prototype.zoom = function (factor, cx, cy) {
    var v = this.view;
    if (cx === undefined) { cx = v.x + v.w / 2; cy = v.y + v.h / 2; }
    var w = Math.min(Math.max(v.w * factor, 200), this.full.w * 4);
    var h = v.h * (w / v.w);
    this.view = { x: cx - (cx - v.x) * (w / v.w), y: cy - (cy - v.y) * (h / v.h), w: w, h: h };
    this.applyView();
  };

  Map.prototype.pan = function (dx, dy) {
    this.view.x += dx * this.view.w;
    this.view.y += dy * this.view.h;
    this.applyView();
  };

  Map.prototype.toMap = function (evt) {
    var pt = this.svg.createSVGPoint();
    pt.x = evt.clientX; pt.y = evt.clientY;
    return pt.matrixTransform(this.svg.getScreenCTM().inverse());
  };

  Map.prototype.moveTo = function (key, x, y) {
    this.pos[key] = [x, y];
    this.factors[key].setAttribute("transform", "translate(" + x.toFixed(1) + "," + y.toFixed(1) + ")");
    var self = this;
    this.linksOf[key].forEach(function (g) { self.redrawLink(g); });
    this.pending[key] = [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  };

  Map.prototype.redrawLink = function (g) {
    var a = this.pos[g.getAttribute("data-source")], b = this.pos[g.getAttribute("data-target")];
    if (!a || !b) { return; }
    var dx = b[0] - a[0], dy = b[1] - a[1], len = Math.hypot(dx, dy) || 1;
    var ux = dx / len, uy = dy / len;
    var t1 = boxExit(HALF_W, HALF_H, ux, uy), t2 = boxExit(HALF_W, HALF_H, ux, uy);
    var sx = a[0] + ux * t1, sy = a[1] + uy * t1, ex = b[0] - ux * t2, ey = b[1] - uy * t2;
    var mx = (sx + ex) / 2, my = (sy + ey) / 2, nx = -uy, ny = ux;
    var bend = 0.18 * Math.hypot(ex - sx, ey - sy);
    var qx = mx + nx * bend, qy = my + ny * bend;
    var px = 0.25 * sx + 0.5 * qx + 0.25 * ex, py = 0.25 * sy + 0.5 * qy + 0.25 * ey;
    g.querySelector("path").setAttribute("d", "M" + sx.toFixed(1) + "," + sy.toFixed(1) + " Q" +
      qx.toFixed(1) + "," + qy.toFixed(1) + " " + ex.toFixed(1) + "," + ey.toFixed(1));
    var circle = g.querySelector("circle"), text = g.querySelector("text");
    circle.setAttribute("cx", px.toFixed(1)); circle.setAttribute("cy", py.toFixed(1));
    text.setAttribute("x", px.toFixed(1)); text.setAttribute("y", (py + 5).toFixed(1));
    var lines = g.querySelectorAll("line");
    if (lines.length) {
      var bx = 0.5625 * sx + 0.375 * qx + 0.0625 * ex, by = 0.5625 * sy + 0.375 * qy + 0.0625 * ey;
      [-3, 3].forEach(function (offset, i) {
        var ox = bx + ux * offset, oy = by + uy * offset;
        lines[i].setAttribute("x1", (ox + nx * 8).toFixed(1)); lines[i].setAttribute("y1", (oy + ny * 8).toFixed(1));
        lines[i].setAttribute("x2", (ox - nx * 8).toFixed(1)); lines[i].setAttribute("y2", (oy - ny * 8).toFixed(1));
      });
    }
  };

  Map.prototype.save = function (message) {
    var self = this;
    var positions = this.pending;
    this.pending = {};
    if (!Object.keys(positions).length) { return; }
    fetch("/map/" + encodeURIComponent(this.mapId) + "/layout", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ positions: positions })
    }).then(function (response) {
      if (response.ok) {
        self.say(message || "Saved where the factors sit.");
        self.figure.setAttribute("data-saved", String(Date.now()));
      } else {
        response.json().then(function (body) {
          self.say("Not saved: " + (body.detail || response.status) + ".");
        }, function () { self.say("Not saved (error " + response.status + "); reload the page."); });
      }
    }, function () { self.say("Not saved: the workspace could not be reached; try again."); });
  };

  Map.prototype.saveSoon = function (message) {
    var self = this;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(function () { self.save(message); }, 500);
  };

  Map.prototype.enableDragging = function () {
    var self = this, dragging = null;
    this.svg.addEventListener("pointerdown", function (evt) {
      var g = evt.target.closest && evt.target.closest("g.factor");
      if (!g || evt.button !== 0) { return; }
      var key = g.getAttribute("data-key"), p = self.toMap(evt);
      dragging = { key: key, dx: self.pos[key][0] - p.x, dy: self.pos[key][1] - p.y, moved: false };
      g.classList.add("dragging");
      self.svg.setPointerCapture(evt.pointerId);
      evt.preventDefault();
      evt.stopPropagation();
    });
    this.svg.addEventListener("pointermove", function (evt) {
      if (!dragging) { return; }
      var p = self.toMap(evt);
      dragging.moved = true;
      self.moveTo(dragging.key, p.x + dragging.dx, p.y + dragging.dy);
    });
    var end = function () {
      if (!dragging) { return; }
      self.factors[dragging.key].classList.remove("dragging");
      if (dragging.moved) {
        var name = self.factors[dragging.key].querySelector("title").textContent.split(",")[0];
        self.save("Moved " + name + "; saved.");
      }
      dragging = null;
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("keydown", function (evt) {
      var g = evt.target.closest && evt.target.closest("g.factor");
      if (!g) { return; }
      var step = evt.shiftKey ? 50 : 10, d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[evt.key];
      if (!d) { return; }
      var key = g.getAttribute("data-key");
      self.moveTo(key, self.pos[key][0] + d[0], self.pos[key][1] + d[1]);
      self.saveSoon("Moved " + g.querySelector("title").textContent.split(",")[0] + "; saved.");
      evt.preventDefault();
      evt.stopPropagation();
    });
  };

  Map.prototype.enablePanZoom = function () {
    var self = this, panning = null;
    this.figure.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      var p = self.toMap(evt);
      self.zoom(evt.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
    }, { passive: false });
    this.svg.addEventListener("pointerdown", function (evt) {
      if (evt.defaultPrevented || evt.button !== 0) { return; }
      panning = { x: evt.clientX, y: evt.clientY };
      self.svg.setPointerCapture(evt.pointerId);
    });
    this.svg.addEventListener("pointermove", function (evt) {
      if (!panning) { return; }
      var scale = self.view.w / self.svg.getBoundingClientRect().width;
      self.view.x -= (evt.clientX - panning.x) * scale;
      self.view.y -= (evt.clientY - panning.y) * scale;
      panning = { x: evt.clientX, y: evt.clientY };
      self.applyView();
    });
    var stop = function () { panning = null; };
    this.svg.addEventListener("pointerup", stop);
    this.svg.addEventListener("pointercancel", stop);
    this.figure.addEventListener("keydown", function (evt) {
      if (evt.target !== self.figure) { return; }
      var keys = { "+": [0.8], "=": [0.8], "-": [1.25], "0": null,
        ArrowLeft: [0, -0.1, 0], ArrowRight: [0, 0.1, 0], ArrowUp: [0, 0, -0.1], ArrowDown: [0, 0, 0.1] };
      if (!(evt.key in keys)) { return; }
      var k = keys[evt.key];
      if (k === null) { self.fit(); } else if (k.length === 1) { self.zoom(k[0]); } else { self.pan(k[1], k[2]); }
      evt.preventDefault();
    });
  };

  Map.prototype.filter = function (loop, level, kind, tag, loopKind) {
    var self = this, keep = null, links = this.svg.querySelectorAll("g.link");
    if (loop) {
      keep = {};
      links.forEach(function (g) {
        if (g.classList.contains("in-" + loop)) {
          keep[g.getAttribute("data-source")] = true;
          keep[g.getAttribute("data-target")] = true;
        }
      });
    }
    var shown = 0;
    Object.keys(this.factors).forEach(function (key) {
      var g = self.factors[key];
      var ok = (!keep || keep[key]) &&
        (!level || g.getAttribute("data-level") === level) &&
        (!kind || g.getAttribute("data-kind") === kind) &&
        (!tag || (g.getAttribute("data-tags") || "").split("|").indexOf(tag) >= 0);
      g.classList.toggle("filtered-out", !ok);
      if (ok) { shown += 1; }
    });
    links.forEach(function (g) {
      var out = self.factors[g.getAttribute("data-source")].classList.contains("filtered-out") ||
        self.factors[g.getAttribute("data-target")].classList.contains("filtered-out") ||
        (loop && !g.classList.contains("in-" + loop));
      g.classList.toggle("filtered-out", !!out);
      g.classList.toggle("on-loop", !!loop && g.classList.contains("in-" + loop));
    });
    this.svg.classList.toggle("loop-chosen", !!loop);
    this.svg.classList.toggle("loop-reinforcing", !!loop && loopKind === "reinforcing");
    this.svg.classList.toggle("loop-balancing", !!loop && loopKind === "balancing");
    var total = Object.keys(this.factors).length;
    var visible = Object.keys(this.factors).filter(function (k) { return !self.factors[k].classList.contains("filtered-out"); });
    if (shown === total) { this.fit(); } else { this.fitTo(visible); }
    this.say(shown === total ? "Showing all " + total + " factors." : "Showing " + shown + " of " + total + " factors.");
  };

  Map.prototype.png = function () {
    var clone = this.svg.cloneNode(true);
    var f = this.full;
    clone.setAttribute("viewBox", [f.x, f.y, f.w, f.h].join(" "));
    clone.setAttribute("width", f.w);
    clone.setAttribute("height", f.h);
    var data = new XMLSerializer().serializeToString(clone);
    var image = new Image();
    var self = this;
    image.onload = function () {
      var scale = Math.min(2, 8000 / Math.max(f.w, f.h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(f.w * scale);
      canvas.height = Math.round(f.h * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = (self.figure.getAttribute("data-file-stem") || "system-map") + ".png";
        document.body.appendChild(a);
        a.click();
        a.remove();
        self.say("PNG saved to your downloads.");
      }, "image/png");
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(data);
  };

  function wire(root) {
    var figure = (root || document).querySelector ? (root || document).querySelector("figure.map-canvas") : null;
    if (!figure && root && root.matches && root.matches("figure.map-canvas")) { figure = root; }
    if (!figure || figure.systemicMap) { return; }
    var map = new Map(figure);
    figure.systemicMap = map;
    var tools = document.getElementById("map-tools");
    if (!tools) { return; }
    tools.hidden = false;
    var value = function (id) { var el = document.getElementById(id); return el ? el.value : ""; };
    var refilter = function () {
      var chosen = document.getElementById("filter-loop");
      var loopKind = chosen && chosen.selectedOptions.length ? chosen.selectedOptions[0].getAttribute("data-kind") : "";
      map.filter(value("filter-loop"), value("filter-level"), value("filter-kind"), value("filter-tag"), loopKind);
    };
    ["filter-loop", "filter-level", "filter-kind", "filter-tag"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.onchange = refilter; }
    });
    var on = function (id, fn) { var el = document.getElementById(id); if (el) { el.onclick = fn; } };
    on("filter-clear", function () {
      ["filter-loop", "filter-level", "filter-kind", "filter-tag"].forEach(function (id) {
        var el = document.getElementById(id); if (el) { el.value = ""; }
      });
      refilter();
    });
    on("zoom-in", function () { map.zoom(0.8); });
    on("zoom-out", function () { map.zoom(1.25); });
    on("zoom-fit", function () { map.fit(); });
    on("export-png", function () { map.png(); });
    if (value("filter-loop") || value("filter-level") || value("filter-kind") || value("filter-tag")) { refilter(); }
  }

  window.systemicMap = { wire: wire };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { wire(document); });
  } else {
    wire(document);
  }
  document.addEventListener("htmx:load", function (evt) { wire(evt.detail.elt); });
})();
