/* The site for every reader (issue 27): what the theme's own scripts leave undone.
   - Phone and tablet navigation: the theme binds its menu handlers to the FIRST .primary-toggle /
     .secondary-toggle of the page, a header button hidden below 992 px; the visible buttons in the
     article header did nothing. They now forward their tap to that first button.
   - Names for the solution toggles ("Toggle hidden content" on every one) and the hint buttons.
   - The skip link to the first interactive figure or checker moves the keyboard focus there.
   - Live Code: if thebe cannot be loaded or its kernel does not start in time, a Korean notice
     with the Colab and Binder links replaces the endless "Loading thebe from CDN...".
   - Wide equations that scroll get a visible cue (class dldna-scrolls, dldna-site.css).
   - Printing: equations wider than the paper are set smaller to fit. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  /* ---------------------------------------------------------- menus on phones and tablets */
  function forwardToggles(selector) {
    var all = document.querySelectorAll(selector);
    if (all.length < 2) return;
    var bound = all[0];
    Array.prototype.slice.call(all, 1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    });
  }

  /* ---------------------------------------------------------- accessible names */
  function titleText(title) {
    var copy = title.cloneNode(true);
    copy.querySelectorAll("button, .headerlink").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  function nameToggleButtons() {
    document.querySelectorAll(".admonition.toggle > .admonition-title > button.toggle-button").forEach(function (button) {
      var box = button.closest(".admonition");
      var title = titleText(button.parentElement);
      if (box.classList.contains("solution")) {
        // "해답 연습 1 (모멘텀 SGD 세 스텝)" -> "연습 1 (모멘텀 SGD 세 스텝)의 해답"
        var exercise = title.replace(/^해답\s*/, "");
        button.setAttribute("aria-label", exercise ? exercise + "의 해답" : "해답");
      } else if (title) {
        button.setAttribute("aria-label", title);
      }
    });
    document.querySelectorAll("details.toggle-details > summary").forEach(function (summary) {
      summary.setAttribute("aria-label", summary.textContent.replace(/\s+/g, " ").trim() || "숨긴 내용");
    });
  }

  /* ---------------------------------------------------------- skip link to the first control */
  function wireSkipLinks() {
    document.querySelectorAll("a.dldna-skip-link").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) return;
        var control = target.matches("input, button, select, textarea") ? target
          : target.querySelector("input, button, select, textarea");
        if (!control) return;
        event.preventDefault();
        control.scrollIntoView({block: "center"});
        control.focus();
      });
    });
  }

  /* ---------------------------------------------------------- Live Code that cannot start */
  var LIVE = window.DLDNA_LIVE_CODE || {loadSeconds: 20, readySeconds: 180};

  function launchLinks() {
    var links = [];
    document.querySelectorAll(".dropdown-launch-buttons a[href]").forEach(function (a) {
      var text = a.textContent.replace(/\s+/g, " ").trim();
      if (/colab|binder/i.test(a.href)) links.push({href: a.href, text: text});
    });
    return links;
  }

  function liveCodeNotice(reason) {
    if (document.querySelector(".dldna-thebe-notice")) return;
    var notice = document.createElement("div");
    notice.className = "dldna-thebe-notice";
    notice.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.textContent = "라이브 코드(Live Code)를 시작하지 못했습니다: " + reason
      + " 대신 아래에서 이 페이지의 노트북을 열어 실행해 보세요.";
    notice.appendChild(p);
    var list = document.createElement("ul");
    launchLinks().forEach(function (link) {
      var item = document.createElement("li"), a = document.createElement("a");
      a.href = link.href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = link.text + "에서 열기";
      item.appendChild(a);
      list.appendChild(item);
    });
    notice.appendChild(list);
    var button = document.querySelector(".thebe-launch-button");
    var anchor = button || document.querySelector("section h1");
    if (anchor) anchor.insertAdjacentElement("afterend", notice);
    else document.body.prepend(notice);
    if (button) button.textContent = "라이브 코드를 시작하지 못했습니다";
  }

  function watchLiveCode() {
    var started = null;
    document.addEventListener("click", function (event) {
      if (!event.target.closest(".btn-launch-thebe") || started) return;
      started = Date.now();
      var scriptFailed = false;
      window.addEventListener("error", function (e) {
        var src = e.target && e.target.src;
        if (src && typeof THEBE_JS_URL !== "undefined" && src === THEBE_JS_URL) {
          scriptFailed = true;
          liveCodeNotice("실행 환경(thebe)을 내려받을 수 없습니다(인터넷 연결이 없거나 CDN에 닿지 않음).");
        }
      }, true);
      setTimeout(function () {
        var label = document.querySelector(".thebe-launch-button");
        if (label && /Loading thebe/.test(label.textContent)) label.textContent = "라이브 코드 준비 중…";
      }, 0);
      var timer = setInterval(function () {
        var button = document.querySelector(".thebe-launch-button");
        var ready = button && button.classList.contains("thebe-status-ready");
        var failed = button && button.classList.contains("thebe-status-failed");
        var loaded = typeof window.thebelab !== "undefined";
        var seconds = (Date.now() - started) / 1000;
        if (ready || scriptFailed) { clearInterval(timer); return; }
        if (failed) {
          clearInterval(timer);
          liveCodeNotice("Binder가 커널을 시작하지 못했습니다.");
        } else if (!loaded && seconds > LIVE.loadSeconds) {
          clearInterval(timer);
          liveCodeNotice(LIVE.loadSeconds + "초 안에 실행 환경(thebe)을 내려받지 못했습니다.");
        } else if (seconds > LIVE.readySeconds) {
          clearInterval(timer);
          liveCodeNotice(LIVE.readySeconds + "초 안에 Binder 커널이 준비되지 않았습니다.");
        }
      }, 500);
    }, true);
  }

  /* ---------------------------------------------------------- equations that scroll */
  function backgroundOf(element) {
    for (var e = element; e; e = e.parentElement) {
      var colour = getComputedStyle(e).backgroundColor;
      if (colour && colour !== "transparent" && !/^rgba\(.*,\s*0\)$/.test(colour)) return colour;
    }
    return "";
  }
  function markScrollingEquations() {
    document.querySelectorAll('div.math mjx-container[display="true"]').forEach(function (m) {
      var scrolls = m.scrollWidth > m.clientWidth + 1;
      m.classList.toggle("dldna-scrolls", scrolls);
      if (scrolls) m.style.setProperty("--dldna-eq-bg", backgroundOf(m.parentElement));
    });
  }
  function watchEquations() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) mj.startup.promise.then(markScrollingEquations);
    else markScrollingEquations();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(markScrollingEquations, 150);
    });
    // the colour mode changes the surroundings' colour
    new MutationObserver(markScrollingEquations).observe(document.documentElement,
      {attributes: true, attributeFilter: ["data-theme"]});
  }

  /* ---------------------------------------------------------- equations on paper */
  // On screen a wide equation scrolls; on paper it cannot, so it is set smaller to fit the page
  // (measured once the print layout applies, restored afterwards).
  function fitEquations(printing) {
    document.querySelectorAll('div.math mjx-container[display="true"]').forEach(function (m) {
      m.style.fontSize = "";
      if (!printing) return;
      var ratio = m.clientWidth / m.scrollWidth;
      if (ratio < 1) m.style.fontSize = Math.max(0.5, ratio * 0.97) * 100 + "%";
    });
  }
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    var onChange = function (e) { fitEquations(e.matches); };
    if (print.addEventListener) print.addEventListener("change", onChange);
    else if (print.addListener) print.addListener(onChange);
  }

  watchLiveCode();
  onReady(function () {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    wireSkipLinks();
    watchEquations();
    // sphinx-togglebutton adds its buttons at DOMContentLoaded too: name them after it
    setTimeout(nameToggleButtons, 0);
  });
})();
