"use strict";
// The live board: one EventSource (server-sent events); no polling, no reload.
// Every value from the server is set as text (textContent), never parsed as HTML.
(function () {
  const DISTRICTS = {
    baoan: ["宝安区", "Bao'an", 1, 1, 1, 2], guangming: ["光明区", "Guangming", 2, 1, 1, 1],
    longhua: ["龙华区", "Longhua", 3, 1, 1, 1], longgang: ["龙岗区", "Longgang", 4, 1, 2, 1],
    pingshan: ["坪山区", "Pingshan", 6, 1, 1, 1], nanshan: ["南山区", "Nanshan", 2, 2, 1, 1],
    futian: ["福田区", "Futian", 3, 2, 1, 1], luohu: ["罗湖区", "Luohu", 4, 2, 1, 1],
    yantian: ["盐田区", "Yantian", 5, 2, 1, 1], dapeng: ["大鹏新区", "Dapeng", 6, 2, 1, 1],
    shenshan: ["深汕合作区", "Shenshan", 7, 1, 1, 2],
  };
  const LEVEL = { overdue: "超期 overdue", escalated: "升级 escalated", warning: "预警 warning" };
  const CLOCK = { accept: "签收 accept", contact: "联系 contact", resolve: "办结 resolve" };
  const KIND = { group_dispute: "群体性纠纷 group dispute", mass_report: "集体诉求 mass report" };
  const CATEGORY = {
    wage_arrears: "欠薪", work_injury: "工伤", social_insurance: "社保", labor_contract: "劳动合同",
    dismissal: "解除劳动关系", working_hours: "工时休假", occupational_safety: "劳动保护", other: "其他",
  };
  const params = new URLSearchParams(location.search);
  const asked = params.get("district");
  const query = asked ? "?district=" + encodeURIComponent(asked) : "";
  let today = {};

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  const name = (slug) => (slug && DISTRICTS[slug] ? DISTRICTS[slug][0] : slug === "city" ? "全市" : "分拨中心");
  const pct = (v) => (v === null || v === undefined ? "-" : (v * 100).toFixed(1) + "%");
  const time = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }) : "-");
  const caseLink = (id) => el("a", { href: "/board/case/" + encodeURIComponent(id), class: "mono", "data-case": id }, id);

  function renderMap(scope) {
    const map = $("map");
    map.replaceChildren();
    const slugs = scope === "city" ? Object.keys(DISTRICTS) : [scope];
    const max = Math.max(1, ...Object.values(today));
    for (const slug of slugs) {
      const [zh, en, col, row, w, h] = DISTRICTS[slug];
      const n = today[slug] || 0;
      const tile = el("a", { class: "tile", id: "tile-" + slug, href: "/board?district=" + slug },
        el("span", { class: "n" }, n), el("span", { class: "name" }, zh, el("small", {}, en)));
      if (scope === "city") {
        tile.style.gridColumn = col + " / span " + w;
        tile.style.gridRow = row + " / span " + h;
      } else {
        tile.style.gridColumn = "1 / -1"; tile.style.gridRow = "1 / span 2";
      }
      tile.style.background = "hsl(212, 68%, " + (62 - 30 * (n / max)) + "%)";
      map.append(tile);
    }
    $("kpi-today").textContent = Object.values(today).reduce((a, b) => a + b, 0);
  }

  function latestItem(c, fresh) {
    const li = el("li", { id: "case-" + c.case_id, class: fresh ? "new" : "" },
      el("span", { class: "tag" }, name(c.district)), caseLink(c.case_id), " ",
      CATEGORY[c.category] || c.category, c.street ? " · " + c.street : "", " · ", time(c.at));
    return li;
  }

  function render(s) {
    $("scope-name").textContent = name(s.scope) + (s.scope === "city" ? " City view" : " District view");
    $("day").textContent = s.day; $("week").textContent = s.week;
    today = Object.assign({}, s.today);
    renderMap(s.scope);
    $("latest").replaceChildren(...s.latest.map((c) => latestItem(c, false)));
    $("risk").replaceChildren(...(s.risk.length ? s.risk.map((r) => el("li", {},
      el("span", { class: "tag " + r.kind }, KIND[r.kind] || r.kind), name(r.district), " · ",
      r.employer || "-", " · ", r.cases + " 件 cases, " + r.persons + " 人 persons")) : [el("li", {}, "无 none")]));
    $("kpi-risk").textContent = s.risk.length;
    $("kpi-overdue").textContent = s.overdue_total; $("overdue-total").textContent = s.overdue_total;
    $("overdue").replaceChildren(...s.overdue.map((o) => el("tr", {},
      el("td", {}, caseLink(o.case_id)), el("td", {}, name(o.district)), el("td", {}, CLOCK[o.clock] || o.clock),
      el("td", {}, el("span", { class: "tag " + o.level }, LEVEL[o.level] || o.level)), el("td", {}, time(o.due_at)))));
    const scopes = Object.keys(s.figures).filter((k) => k !== "city").concat(["city"]);
    $("figures").replaceChildren(...scopes.map((k) => {
      const f = s.figures[k];
      return el("tr", { "data-district": k }, el("td", {}, name(k)), el("td", { class: "num" }, f.dispatched),
        el("td", { class: "num wide-only" }, f.resolved), el("td", { class: "num" }, pct(f.resolve_rate)),
        el("td", { class: "num" }, pct(f.resolve_on_time_rate)), el("td", { class: "num sat" }, pct(f.satisfaction_rate)),
        el("td", { class: "num" }, f.overdue_now));
    }));
    const mine = s.figures[s.scope] || s.figures.city;
    $("kpi-ontime").textContent = pct(mine.resolve_on_time_rate); $("kpi-sat").textContent = pct(mine.satisfaction_rate);
    if (s.scope === "city" || asked) buildViews(s.scope);
  }

  function buildViews(scope) {
    const nav = $("views");
    if (nav.childElementCount) return;
    nav.append(el("a", { href: "/board", class: scope === "city" && !asked ? "here" : "" }, "全市 City"));
    for (const slug of Object.keys(DISTRICTS)) {
      nav.append(el("a", { href: "/board?district=" + slug, class: scope === slug ? "here" : "" }, DISTRICTS[slug][0]));
    }
    nav.hidden = false;
  }

  function onCase(c) {
    if (c.event_type !== "new_case") return;
    const list = $("latest");
    if (!document.getElementById("case-" + c.case_id)) list.prepend(latestItem(c, true));
    if (c.district && c.district in today) {
      today[c.district] += 1;
      const tile = $("tile-" + c.district);
      if (tile) { tile.querySelector(".n").textContent = today[c.district]; tile.classList.add("flash"); }
      $("kpi-today").textContent = Object.values(today).reduce((a, b) => a + b, 0);
    }
  }

  const source = new EventSource("/board/events" + query);
  source.addEventListener("open", () => { $("live").textContent = "● 实时 live"; $("live").className = "live on"; });
  source.addEventListener("error", () => { $("live").textContent = "● 重连中 reconnecting"; $("live").className = "live off"; });
  source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  source.addEventListener("case", (e) => onCase(JSON.parse(e.data)));
})();
