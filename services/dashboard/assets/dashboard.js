/* dashboard.js - the page: takes the token (from #token=... or the form,
 * kept in sessionStorage), follows GET /api/events (server-sent events, one
 * "state" event per change) and draws the state; the charts are SVG drawn
 * here, no library. */
(function () {
  "use strict";

  var TOKEN_KEY = "simpki-dashboard-token";
  var SVGNS = "http://www.w3.org/2000/svg";
  var token = null, source = null, state = null, openOrder = null;
  var updates = 0, detailTimer = null;

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function num(n) { return (n || 0).toLocaleString("vi-VN"); }
  function en(s) { return ' <span class="en">' + esc(s) + "</span>"; }
  function when(iso) {
    if (!iso) return "–";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return esc(iso);
    return d.toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false });
  }

  /* ---- the token ---- */

  function hashParams() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("=");
      out[decodeURIComponent(i < 0 ? kv : kv.slice(0, i))] =
        i < 0 ? "" : decodeURIComponent(kv.slice(i + 1));
    });
    return out;
  }

  function setHash(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== undefined && params[k] !== null)
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    });
    history.replaceState(null, "", location.pathname + (parts.length ? "#" + parts.join("&") : ""));
  }

  function takeToken() {
    var p = hashParams();
    if (p.token) {
      sessionStorage.setItem(TOKEN_KEY, p.token);
      delete p.token;
      setHash(p); /* the token leaves the address bar */
    }
    if (p.order) openOrder = p.order;
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function showLogin(msg) {
    $("login").hidden = false;
    $("main").hidden = true;
    $("login-error").textContent = msg || "";
  }

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = $("token-input").value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    $("token-input").value = "";
    start();
  });

  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + token } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          sessionStorage.removeItem(TOKEN_KEY);
          return r.json().then(function (j) {
            showLogin((r.status === 401 ? "Mã không hợp lệ (unknown token): " : "Không được phép (forbidden): ") + j.error);
            throw new Error("refused");
          });
        }
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  /* ---- live updates ---- */

  function setStatus(live, text) {
    var el = $("status");
    el.className = "status " + (live ? "live" : "off");
    el.setAttribute("data-live", live ? "1" : "0");
    $("status-text").innerHTML = text;
  }

  function start() {
    token = takeToken();
    if (!token) { showLogin(""); return; }
    /* One authenticated call first: a refused token shows the form. */
    api("/api/state").then(function (s) {
      $("login").hidden = true;
      $("main").hidden = false;
      render(s);
      connect();
      if (openOrder) showOrder(openOrder);
    }).catch(function (e) {
      if (e.message !== "refused") setStatus(false, "Lỗi" + en(e.message));
    });
  }

  function connect() {
    if (source) source.close();
    source = new EventSource("/api/events?token=" + encodeURIComponent(token));
    source.addEventListener("open", function () {
      setStatus(true, "Trực tiếp" + en("live"));
    });
    source.addEventListener("error", function () {
      setStatus(false, "Mất kết nối, đang thử lại" + en("reconnecting"));
    });
    source.addEventListener("state", function (e) {
      updates++;
      render(JSON.parse(e.data));
      if (openOrder) {
        clearTimeout(detailTimer);
        detailTimer = setTimeout(function () { showOrder(openOrder); }, 400);
      }
    });
  }

  /* ---- SVG ---- */

  function svg(w, h) {
    var s = document.createElementNS(SVGNS, "svg");
    s.setAttribute("viewBox", "0 0 " + w + " " + h);
    s.setAttribute("role", "img");
    return s;
  }
  function el(parent, name, attrs, text) {
    var e = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  /* Horizontal bars narrowing down the steps: the SIMs that reached each. */
  function funnel(steps, values, opts) {
    var w = 520, row = 22, left = 150, h = steps.length * row + 6;
    var s = svg(w, h);
    var max = Math.max.apply(null, values.concat([1]));
    steps.forEach(function (st, i) {
      var v = values[i] || 0, bw = Math.round((w - left - 70) * v / max);
      var y = 3 + i * row, x = left + ((w - left - 70) - bw) / 2;
      el(s, "text", { x: 4, y: y + 15, "font-size": 11, fill: "#1d2733" }, st.code + " " + st.label);
      el(s, "rect", { x: left, y: y + 2, width: w - left - 70, height: row - 5, fill: "#eef2f6", rx: 2 });
      if (bw > 0)
        el(s, "rect", { x: x, y: y + 2, width: Math.max(bw, 2), height: row - 5, rx: 2,
          fill: i < 3 ? "#7aa7d6" : i < 6 ? "#0a5cad" : i < 8 ? "#d9822b" : "#1f8a4c" });
      el(s, "text", { x: w - 4, y: y + 15, "font-size": 11, "text-anchor": "end", fill: "#1d2733",
        "data-step": st.code, "class": "funnel-value" }, num(v));
    });
    if (opts && opts.title) el(s, "title", {}, opts.title);
    return s;
  }

  /* Grouped bars per CTKV: stock, connected, sold. */
  function ctkvChart(rows) {
    var w = 560, h = 230, left = 40, bottom = 30, top = 22;
    var s = svg(w, h);
    var series = [["stock", "#0a5cad", "Tồn kho (stock)"], ["connected", "#d9822b", "Đã đấu nối (connected)"],
      ["sold", "#1f8a4c", "Đã bán (sold)"]];
    var max = 1;
    rows.forEach(function (r) { series.forEach(function (se) { max = Math.max(max, r[se[0]]); }); });
    var ph = h - top - bottom, gw = (w - left - 10) / Math.max(rows.length, 1);
    for (var k = 0; k <= 4; k++) {
      var yv = top + ph - ph * k / 4;
      el(s, "line", { x1: left, x2: w - 6, y1: yv, y2: yv, stroke: "#dde3ea" });
      el(s, "text", { x: left - 4, y: yv + 4, "font-size": 10, "text-anchor": "end", fill: "#66717f" },
        Math.round(max * k / 4));
    }
    rows.forEach(function (r, i) {
      var gx = left + i * gw, bw = (gw - 8) / 3;
      series.forEach(function (se, j) {
        var v = r[se[0]] || 0, bh = ph * v / max;
        var rect = el(s, "rect", { x: gx + 4 + j * bw, y: top + ph - bh, width: Math.max(bw - 1, 1), height: bh,
          fill: se[1], "data-ctkv": r.ctkv, "data-series": se[0], "data-value": v });
        el(rect, "title", {}, r.ctkv + " " + se[2] + ": " + v);
        if (v > 0)
          el(s, "text", { x: gx + 4 + j * bw + bw / 2, y: top + ph - bh - 2, "font-size": 9,
            "text-anchor": "middle", fill: "#1d2733" }, v);
      });
      el(s, "text", { x: gx + gw / 2, y: h - bottom + 14, "font-size": 10, "text-anchor": "middle", fill: "#1d2733" },
        r.ctkv);
    });
    series.forEach(function (se, j) {
      el(s, "rect", { x: left + j * 170, y: 4, width: 10, height: 10, fill: se[1] });
      el(s, "text", { x: left + j * 170 + 14, y: 13, "font-size": 11, fill: "#1d2733" }, se[2]);
    });
    return s;
  }

  /* SIMs per minute over the last hour, as a line. */
  function hlrChart(hlr) {
    var w = 560, h = 200, left = 48, bottom = 28, top = 10;
    var s = svg(w, h);
    var v = hlr.per_minute || [], max = 1;
    v.forEach(function (x) { max = Math.max(max, x); });
    var ph = h - top - bottom, pw = w - left - 10;
    for (var k = 0; k <= 4; k++) {
      var yv = top + ph - ph * k / 4;
      el(s, "line", { x1: left, x2: w - 10, y1: yv, y2: yv, stroke: "#dde3ea" });
      el(s, "text", { x: left - 4, y: yv + 4, "font-size": 10, "text-anchor": "end", fill: "#66717f" },
        Math.round(max * k / 4));
    }
    var pts = v.map(function (x, i) {
      return (left + pw * i / Math.max(v.length - 1, 1)).toFixed(1) + "," + (top + ph - ph * x / max).toFixed(1);
    });
    if (pts.length) {
      el(s, "polygon", { points: left + "," + (top + ph) + " " + pts.join(" ") + " " + (left + pw) + "," + (top + ph),
        fill: "rgba(10,92,173,0.12)" });
      el(s, "polyline", { points: pts.join(" "), fill: "none", stroke: "#0a5cad", "stroke-width": 2 });
    }
    [0, 15, 30, 45, 60].forEach(function (m) {
      el(s, "text", { x: left + pw * m / 60, y: h - 10, "font-size": 10, "text-anchor": "middle", fill: "#66717f" },
        m === 60 ? "bây giờ (now)" : "-" + (60 - m) + " ph");
    });
    el(s, "text", { x: left + 4, y: top + 12, "font-size": 10, fill: "#66717f" }, "SIM/phút (SIMs/min)");
    return s;
  }

  /* ---- the page ---- */

  var STATE_ORDER = null;
  function stateLabel(st) {
    for (var i = 0; state && i < state.states.length; i++)
      if (state.states[i].state === st) return state.states[i].label;
    return st;
  }

  function countsRow(counts, cols) {
    return cols.map(function (c) {
      return '<td class="num" data-state="' + esc(c) + '">' + num(counts[c]) + "</td>";
    }).join("");
  }

  function renderOrders(s) {
    var box = $("orders");
    var html = "";
    if (!s.orders.length) html = '<p class="hint">Chưa có đơn hàng' + en("no order yet") + "</p>";
    s.orders.forEach(function (o, idx) {
      /* The states the order's SIMs are in, in the order of a SIM's life. */
      var cols = STATE_ORDER.filter(function (c) { return o.counts[c] > 0; });
      if (!cols.length) cols = ["produced"];
      html += '<div class="order" data-order="' + esc(o.order_id) + '">';
      html += '<div class="order-head"><b>' + esc(o.order_id) + "</b> <span>" + esc(o.bcycp_ref) + "</span>" +
        "<span>NCC" + en("vendor") + ": " + esc(o.vendor_id) + "</span><span>SL" + en("quantity") + ": " +
        num(o.quantity) + '</span><span class="pill">' + esc(o.state) + "</span>" +
        '<button type="button" data-open="' + esc(o.order_id) + '">Chi tiết' + en("timeline") + "</button></div>";
      html += '<div class="order-body"><div class="chart" id="funnel-' + idx + '"></div><div>';
      html += "<table class=\"nums\"><tr><th>Lô" + en("batch") + "</th><th>Loại" + en("kind") + "</th><th>Giai đoạn" +
        en("stage") + "</th>" + cols.map(function (c) {
          return '<th class="num">' + esc(stateLabel(c)) + en(c) + "</th>";
        }).join("") + "</tr>";
      o.batches.forEach(function (b) {
        html += '<tr data-batch="' + esc(b.batch_id) + '"><td>' + esc(b.batch_id) + "</td><td>" +
          esc(b.kind === "pilot" ? "thử nghiệm (pilot)" : "sản xuất (production)") + "</td><td>" + esc(b.state) +
          "</td>" + countsRow(b.counts, cols) + "</tr>";
      });
      html += '<tr class="total"><td colspan="3">Cả đơn' + en("order") + "</td>" + countsRow(o.counts, cols) + "</tr>";
      html += "</table></div></div></div>";
    });
    box.innerHTML = html;
    s.orders.forEach(function (o, idx) {
      $("funnel-" + idx).appendChild(funnel(s.funnel_steps, o.funnel.map(function (f) { return f.sims; }),
        { title: o.order_id }));
    });
    Array.prototype.forEach.call(box.querySelectorAll("button[data-open]"), function (b) {
      b.addEventListener("click", function () { showOrder(b.getAttribute("data-open")); });
    });
  }

  function render(s) {
    state = s;
    STATE_ORDER = s.states.map(function (x) { return x.state; });
    $("events-total").textContent = num(s.events);
    $("last-event").textContent = s.last_event_at ? when(s.last_event_at) : "–";
    var total = 0;
    STATE_ORDER.forEach(function (k) { total += s.sims[k] || 0; });
    $("total-sims").textContent = num(total);
    $("total-sims").setAttribute("data-value", total);

    /* states */
    var h = "<tr><th>Trạng thái" + en("state") + "</th><th>Bước" + en("step") + '</th><th class="num">SIM</th></tr>';
    s.states.forEach(function (st) {
      h += "<tr><td>" + esc(st.label) + en(st.state) + "</td><td>" + esc(st.step) + '</td><td class="num" id="state-' +
        esc(st.state) + '" data-state="' + esc(st.state) + '">' + num(s.sims[st.state]) + "</td></tr>";
    });
    h += '<tr class="total"><td colspan="2">Tổng' + en("total") + '</td><td class="num">' + num(total) + "</td></tr>";
    $("states-table").innerHTML = h;

    /* steps */
    h = "<tr><th>Bước" + en("step") + '</th><th class="num">Sự kiện' + en("events") + '</th><th class="num">SIM</th></tr>';
    s.steps.forEach(function (st) {
      h += '<tr data-step="' + esc(st.code) + '"><td><b>' + esc(st.code) + "</b> " + esc(st.label) + en(st.term) +
        '</td><td class="num">' + num(st.events) + '</td><td class="num">' + num(st.sims) + "</td></tr>";
    });
    $("steps-table").innerHTML = h;

    renderOrders(s);

    var c = $("ctkv-chart");
    c.innerHTML = "";
    c.appendChild(ctkvChart(s.ctkv));

    c = $("hlr-chart");
    c.innerHTML = "";
    c.appendChild(hlrChart(s.hlr));
    h = "<tr><th>Lô" + en("batch") + "</th><th>Lúc" + en("at") + '</th><th class="num">SIM</th><th class="num">giây' +
      en("s") + '</th><th class="num">SIM/giây' + en("per s") + "</th></tr>";
    s.hlr.reports.slice(-6).forEach(function (r) {
      h += "<tr><td>" + esc(r.batch_id) + "</td><td>" + when(r.time) + '</td><td class="num">' + num(r.sims) +
        '</td><td class="num">' + r.duration_s.toFixed(r.duration_s < 10 ? 3 : 1) + '</td><td class="num">' +
        num(Math.round(r.per_s)) + "</td></tr>";
    });
    $("hlr-table").innerHTML = h;

    renderCases(s.cases, $("cases-table"), true);
    var cs = s.cases;
    $("cases-summary").innerHTML = [
      ["breached", "Quá hạn", "breached"], ["due", "Sắp đến hạn", "due"], ["open", "Đang chờ", "open"],
      ["contacted", "Đã liên hệ", "contacted"], ["closed", "Đã đấu nối", "closed"]
    ].map(function (t) {
      return '<div class="tile ' + t[0] + '" data-cases="' + t[0] + '"><div class="n">' + num(cs[t[0]]) +
        "</div>" + esc(t[1]) + en(t[2]) + "</div>";
    }).join("");

    h = "<tr><th>Dịch vụ" + en("service") + "</th><th>Tình trạng" + en("health") + "</th><th>Chi tiết" + en("detail") +
      '</th><th class="num">Outbox' + en("lag") + "</th></tr>";
    s.services.forEach(function (v) {
      var cls = !v.checked ? "" : v.healthy ? "healthy" : "bad";
      var txt = !v.checked ? "…" : v.healthy ? "tốt (ok)" : "lỗi (" + (v.status || "down") + ")";
      h += '<tr data-service="' + esc(v.name) + '"><td>' + esc(v.name) + '</td><td><span class="pill ' + cls + '">' +
        esc(txt) + "</span></td><td>" + esc(v.detail) + '</td><td class="num">' +
        (v.outbox_lag === null ? "–" : num(v.outbox_lag)) + "</td></tr>";
    });
    if (!s.services.length) h += '<tr><td colspan="4" class="hint">SIMPKI_DASHBOARD_SERVICES trống' + en("none configured") + "</td></tr>";
    if (s.reader && s.reader.error) h += '<tr><td colspan="4" class="error">Kafka: ' + esc(s.reader.error) + "</td></tr>";
    $("services-table").innerHTML = h;

    h = "<tr><th>Lúc" + en("time") + "</th><th>Bước" + en("step") + "</th><th>Sự kiện" + en("event") + "</th><th>Đối tượng" +
      en("subject") + "</th><th>Người/dịch vụ" + en("by") + "</th><th>Nội dung" + en("summary") + "</th></tr>";
    s.recent.slice(0, 25).forEach(function (e) {
      h += "<tr><td>" + when(e.time) + '</td><td title="' + esc(e.label + " (" + e.term + ")") + '"><b>' + esc(e.step) +
        "</b></td><td>" + esc(e.type) + "</td><td>" + esc(e.subject) + "</td><td>" + esc(e.who) + "</td><td>" +
        esc(e.summary) + "</td></tr>";
    });
    $("recent-table").innerHTML = h;

    /* For tests and curious operators: each update's counts, one line. */
    var line = "#" + updates + " total=" + total + " events=" + s.events + " " +
      STATE_ORDER.map(function (k) { return k + "=" + (s.sims[k] || 0); }).join(" ");
    var log = $("update-log");
    log.textContent += line + "\n";
    log.setAttribute("data-updates", updates);
  }

  function renderCases(cases, table, onlyOpen) {
    var list = (cases.list || cases).slice();
    var rank = { breached: 0, due: 1, open: 2, contacted: 3, closed: 4 };
    list.sort(function (a, b) { return rank[a.status] - rank[b.status] || (a.deadline < b.deadline ? -1 : 1); });
    var labels = { breached: "quá hạn (breached)", due: "sắp đến hạn (due)", open: "đang chờ (open)",
      contacted: "đã liên hệ (contacted)", closed: "đã đấu nối (closed)" };
    var h = "<tr><th>Hồ sơ" + en("case") + "</th><th>CTKV</th><th>Cơ quan" + en("agency") + "</th><th>Hạn" + en("deadline") +
      "</th><th>Tình trạng" + en("status") + "</th></tr>";
    var shown = 0;
    list.forEach(function (c) {
      if (onlyOpen && shown >= 12) return;
      shown++;
      h += '<tr data-case="' + esc(c.case_id) + '"><td>' + esc(c.case_id) + "<br><span class=\"en\">" + esc(c.notice_ref) +
        "</span></td><td>" + esc(c.ctkv || "–") + "</td><td>" + esc(c.agency) + "</td><td>" + when(c.deadline) +
        '</td><td><span class="pill ' + esc(c.status) + '">' + esc(labels[c.status] || c.status) + "</span>" +
        (c.order_id ? "<br>" + esc(c.order_id) : "") + "</td></tr>";
    });
    if (!list.length) h += '<tr><td colspan="5" class="hint">Không có hồ sơ' + en("no case") + "</td></tr>";
    table.innerHTML = h;
  }

  /* ---- the drill-down ---- */

  function showOrder(id) {
    openOrder = id;
    var p = hashParams();
    p.order = id;
    setHash(p);
    api("/api/orders/" + encodeURIComponent(id)).then(function (o) {
      $("order-detail").hidden = false;
      $("detail-id").textContent = id + " · " + o.bcycp_ref;
      var h = '<div class="order-body"><div><h3>Phễu' + en("funnel") + '</h3><div class="chart" id="detail-funnel"></div>';
      h += "<h3>Hồ sơ A5 của khách hàng" + en("A5 cases of its customers") + "</h3><table id=\"detail-cases\"></table>";
      h += "<h3>Hồ sơ chưa gắn SIM" + en("cases waiting for a SIM") + "</h3><table id=\"detail-waiting\"></table></div>";
      h += "<div><h3>Dòng thời gian" + en("timeline") + " (" + o.timeline.length + ")</h3><ol class=\"timeline\">";
      o.timeline.forEach(function (e) {
        h += '<li data-type="' + esc(e.type) + '"><span class="when">' + when(e.time) + '</span><span class="step">' +
          esc(e.step) + "</span>" + esc(e.label) + en(e.term) + " · <code>" + esc(e.type) + "</code> · " +
          '<span class="who">' + esc(e.who) + "</span>" + (e.summary ? '<div class="sum">' + esc(e.summary) + "</div>" : "") +
          "</li>";
      });
      h += "</ol>" + (o.timeline_complete ? "" : '<p class="hint">Các sự kiện cũ nhất không còn giữ' +
        en("the oldest events are no longer kept") + "</p>") + "</div></div>";
      $("detail-body").innerHTML = h;
      $("detail-funnel").appendChild(funnel(o.funnel_steps, o.funnel.map(function (f) { return f.sims; })));
      renderCases(o.cases, $("detail-cases"), false);
      renderCases(o.cases_waiting, $("detail-waiting"), false);
    }).catch(function (e) {
      if (e.message !== "refused") {
        $("order-detail").hidden = false;
        $("detail-body").innerHTML = '<p class="error">' + esc(e.message) + "</p>";
      }
    });
  }

  $("detail-close").addEventListener("click", function () {
    openOrder = null;
    $("order-detail").hidden = true;
    var p = hashParams();
    delete p.order;
    setHash(p);
  });

  start();
})();
