// The printed book (scripts/build_pdf.py): turns the one-page build of the site (Sphinx's
// singlehtml, every page in _toc.yml order) into a book for paper, in print media:
//   title page and contents (page numbers filled in after a first print), one chapter per page
//   of _toc.yml, each starting on a new page with a running head; folded code left out, the
//   Colab set-up cells left out, folded boxes opened; solutions moved to an appendix (a pointer
//   with its page stays in place); checkers printed as the question and the answer format (a
//   line to write on, no dead input boxes); slider figures printed as their first frame with the
//   values; output images at print resolution; wide equations and tables set smaller to fit.
// Everything here is DOM work on the page the site renders: nothing is recomputed.
(function () {
  "use strict";

  var CONTENT_PX = function () { return document.documentElement.clientWidth; };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function retag(node, tag) {
    if (node.tagName.toLowerCase() === tag) return node;
    var copy = document.createElement(tag);
    for (var i = 0; i < node.attributes.length; i++) copy.setAttribute(node.attributes[i].name, node.attributes[i].value);
    while (node.firstChild) copy.appendChild(node.firstChild);
    node.parentNode.replaceChild(copy, node);
    return copy;
  }

  function headingText(h) {   // the heading without its "#" link, MathJax as its TeX source
    var copy = h.cloneNode(true);
    copy.querySelectorAll(".headerlink, mjx-assistive-mml").forEach(function (n) { n.remove(); });
    copy.querySelectorAll("mjx-container").forEach(function (m) {
      var tex = m.getAttribute("data-tex") || (m.querySelector("math") && m.querySelector("math").textContent) || "";
      m.replaceWith(document.createTextNode(tex));
    });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  var idCounter = 0;
  function ensureId(node, prefix) {
    if (!node.id) node.id = (prefix || "pdf-") + (++idCounter);
    return node.id;
  }

  function pageRef(targetId, placeholder) {   // a page number filled in after the first print
    var span = el("span", "pdf-page-of", placeholder || "00");
    span.setAttribute("data-pdf-page-of", targetId);
    return span;
  }

  // ---------------------------------------------------------------- chapters in _toc.yml order
  function collectChapters(config, report) {
    var article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    var rootSection = article.querySelector("section");
    var chapters = [];
    config.parts.forEach(function (part) {
      part.docs.forEach(function (doc, index) {
        var section;
        if (doc === config.rootDoc) {
          section = rootSection;
        } else {
          var marker = document.getElementById("document-" + doc);
          section = marker && marker.nextElementSibling;
          while (section && section.tagName.toLowerCase() !== "section") section = section.nextElementSibling;
        }
        if (!section) { report.missing.push(doc); return; }
        chapters.push({doc: doc, section: section, part: part.caption, firstInPart: index === 0});
      });
    });
    chapters.forEach(function (c) { c.section.remove(); });
    // the root page kept its toctree wrappers (now empty of chapters): drop them
    chapters.forEach(function (c) {
      c.section.querySelectorAll(".toctree-wrapper").forEach(function (w) { w.remove(); });
    });
    return chapters;
  }

  function normaliseHeadings(chapter) {
    var top = chapter.section.querySelector("h1, h2, h3, h4, h5, h6");
    var shift = top ? parseInt(top.tagName.substring(1), 10) - 1 : 0;
    chapter.section.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach(function (h) {
      var level = Math.max(1, parseInt(h.tagName.substring(1), 10) - shift);
      retag(h, "h" + Math.min(level, 6));
    });
    chapter.heading = chapter.section.querySelector("h1");
    chapter.title = chapter.heading ? headingText(chapter.heading) : chapter.doc;
  }

  // ---------------------------------------------------------------- what paper cannot do
  function dropInteractiveChrome(root, report) {
    var gone = [".headerlink", ".toggle-button", "button.copybtn", ".copybtn", ".dldna-thebe-notice", ".dldna-skip",
                ".thebe-launch-button", ".skip-link", "div.cell.tag_hide-cell",
                "div.cell.tag_remove-cell", "details.hide.above-input", "details.hide.below-input",
                "div.cell.tag_hide-output > div.cell_output", "script", "noscript", "template"];
    gone.forEach(function (sel) {
      root.querySelectorAll(sel).forEach(function (n) {
        if (n.matches("details.hide.above-input")) report.foldedInputs++;
        n.remove();
      });
    });
    // folded boxes (theory "심화" boxes and the like) print open; solutions move to the appendix
    root.querySelectorAll(".toggle-hidden").forEach(function (n) { n.classList.remove("toggle-hidden"); });
    root.querySelectorAll(".dropdown").forEach(function (n) { n.classList.remove("dropdown"); });
    root.querySelectorAll("details").forEach(function (d) { d.open = true; });
  }

  function printCheckers(root, report) {
    root.querySelectorAll(".dldna-checker").forEach(function (form) {
      form.querySelectorAll("button, .dldna-feedback, input[type=submit]").forEach(function (n) { n.remove(); });
      form.querySelectorAll("input").forEach(function (input) {
        var type = (input.getAttribute("type") || "text").toLowerCase();
        if (type === "radio" || type === "checkbox") {
          input.replaceWith(el("span", "pdf-choice-mark", type === "radio" ? "○" : "□"));
        } else if (type === "hidden") {
          input.remove();
        } else {
          var line = el("span", "pdf-answer-line");
          line.setAttribute("aria-label", "답을 적는 칸");
          input.replaceWith(line);
        }
      });
      form.querySelectorAll("select, textarea").forEach(function (n) { n.replaceWith(el("span", "pdf-answer-line")); });
      form.appendChild(el("p", "pdf-checker-note",
        "답을 적는 칸입니다. 웹사이트나 노트북(Colab·Binder)에서는 같은 칸에 답을 넣으면 바로 채점하고, " +
        "틀린 값에는 어떤 실수였을지 알려 줍니다."));
      report.checkers++;
    });
  }

  function printSliders(root, report) {
    root.querySelectorAll(".dldna-figure-slider").forEach(function (box) {
      var meta = {};
      var metaScript = box.querySelector("script.meta");
      try { meta = JSON.parse(metaScript ? metaScript.textContent : "{}"); } catch (e) { meta = {}; }
      var names = meta.names || [];
      var labels = meta.labels || {};
      // label text as the site shows it: a <label> before the input (kept before removal)
      box.querySelectorAll("input[type=range]").forEach(function (input, i) {
        var name = names[i] || input.getAttribute("name");
        var lab = box.querySelector("label[for='" + input.id + "']") || input.closest("label");
        if (!labels[name] && lab) labels[name] = lab.childNodes[0] ? lab.childNodes[0].textContent.replace(/=\s*$/, "").trim() : name;
      });
      var first = names.map(function (n) { return (labels[n] || n) + " = " + meta.values[n][0]; });
      var all = names.map(function (n) { return (labels[n] || n) + " ∈ {" + meta.values[n].join(", ") + "}"; });
      box.querySelectorAll(".dldna-slider, label, input, output, script, style").forEach(function (n) { n.remove(); });
      var img = box.querySelector("img");
      var choices = "웹사이트와 노트북에서는 슬라이더로 " + all.join(", ") + " 사이를 오가며 그림이 어떻게 바뀌는지 볼 수 있습니다.";
      var figure = box.closest("figure");
      if (figure && figure.querySelector("figcaption")) {   // the site's numbered caption, then the frame's values
        var caption = figure.querySelector("figcaption");
        caption = caption.querySelector("p:last-of-type") || caption;   // the caption's text, not after it
        var end = /[.!?)]\s*$/.test(caption.textContent) ? " " : ". ";
        caption.appendChild(el("span", "pdf-slider-note",
          end + "인쇄본에는 첫 장면(" + first.join(", ") + ")을 실었습니다. " + choices));
      } else if (img) {
        box.classList.add("pdf-figure");
        img.after(el("p", "pdf-caption pdf-slider-values", "슬라이더 그림의 첫 장면: " + first.join(", ") + ". " + choices));
      }
      report.sliders++;
    });
    // an ipywidgets view cannot print (and no page should save one): count it for the check
    report.widgets += root.querySelectorAll(".jupyter-widgets, .widget-area, .jp-OutputArea-output .widget-subarea").length;
  }

  // ---------------------------------------------------------------- solutions appendix
  function moveSolutions(chapters, root, report, config) {
    var solutions = [];
    chapters.forEach(function (c) {
      c.section.querySelectorAll("div.solution").forEach(function (s) { solutions.push({chapter: c, node: s}); });
    });
    if (!solutions.length) return null;
    var appendix = el("section", "pdf-chapter pdf-solutions");
    appendix.id = "pdf-solutions";
    var h1 = el("h1", null, config.solutionsTitle);
    appendix.appendChild(h1);
    appendix.appendChild(el("p", null, config.solutionsIntro));
    solutions.forEach(function (item) {
      var s = item.node;
      var title = s.querySelector(".admonition-title");
      var exerciseLink = title ? title.querySelector("a[href^='#']") : null;
      var h2 = el("h2", null, (title ? headingText(title) : "해답").replace(/^해답\s*/, "") + "의 해답");
      ensureId(h2, "pdf-solution-");
      var pointer = el("p", "pdf-solution-pointer");
      var a = el("a");
      a.href = "#" + h2.id;
      a.appendChild(document.createTextNode("해답은 부록 ‘" + config.solutionsTitle + "’ "));
      a.appendChild(pageRef(h2.id));
      a.appendChild(document.createTextNode("쪽에 있습니다."));
      pointer.appendChild(a);
      s.replaceWith(pointer);
      appendix.appendChild(h2);
      if (exerciseLink) {
        var target = exerciseLink.getAttribute("href").substring(1);
        var back = el("p", "pdf-back-link");
        var b = el("a");
        b.href = "#" + target;
        b.appendChild(document.createTextNode("문제: " + item.chapter.title + ", "));
        b.appendChild(pageRef(target));
        b.appendChild(document.createTextNode("쪽"));
        back.appendChild(b);
        appendix.appendChild(back);
      }
      appendix.appendChild(s);
      report.solutions++;
    });
    return appendix;
  }

  // ---------------------------------------------------------------- title page and contents
  function titlePage(config, provenance) {
    var page = el("section", "pdf-title-page");
    page.appendChild(el("div", "pdf-kicker", config.kicker));
    page.appendChild(el("div", "pdf-title", config.title));   // not a heading: the outline starts at 차례
    page.appendChild(el("p", "pdf-subtitle", config.subtitle));
    page.appendChild(el("hr", "pdf-rule"));
    var colophon = el("div", "pdf-colophon");
    config.colophon.forEach(function (line) { colophon.appendChild(el("p", null, line)); });
    if (provenance) colophon.appendChild(el("p", null, "실행 환경: " + provenance +
      ". 페이지마다 첫머리의 실행 정보 줄에 그 페이지의 시드와 데이터가 있습니다."));
    page.appendChild(colophon);
    return page;
  }

  function contents(chapters, appendix, config) {
    var toc = el("section", "pdf-toc pdf-chapter");
    var h1 = el("h1", null, "차례");
    h1.id = "pdf-contents";
    toc.appendChild(h1);
    var list = el("ol");
    var entries = [];
    function entry(node, level, text) {
      var li = el("li", "pdf-toc-" + level);
      var a = el("a");
      a.href = "#" + ensureId(node, "pdf-h-");
      a.appendChild(el("span", "pdf-toc-text", text));
      a.appendChild(el("span", "pdf-toc-dots"));
      var num = pageRef(node.id);
      num.classList.add("pdf-toc-page");
      a.appendChild(num);
      li.appendChild(a);
      list.appendChild(li);
      entries.push(node.id);
    }
    var lastPart = null;
    function chapterEntry(section, part, title) {
      if (part !== lastPart) { list.appendChild(el("li", "pdf-toc-part", part)); lastPart = part; }
      var h1 = section.querySelector("h1");
      entry(h1, 1, title || headingText(h1));
      section.querySelectorAll("h2").forEach(function (h2) {
        if (h2.closest(".admonition, .pdf-solutions .solution, figure, .cell_output")) return;
        entry(h2, 2, headingText(h2));
      });
    }
    chapters.forEach(function (c) {
      chapterEntry(c.section, c.part, c.title);
      if (appendix && c.isLastExercise) chapterEntry(appendix, config.appendixPart);
    });
    toc.appendChild(list);
    return {node: toc, entries: entries};
  }

  // ---------------------------------------------------------------- print resolution and fit
  // The resolution a PNG was drawn at (matplotlib writes it in the pHYs chunk), or null.
  async function pngDpi(src) {
    try {
      var bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
      for (var i = 8; i + 8 < bytes.length && i < 1 << 16;) {
        var length = (bytes[i] << 24 | bytes[i + 1] << 16 | bytes[i + 2] << 8 | bytes[i + 3]) >>> 0;
        var type = String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
        if (type === "pHYs" && bytes[i + 16] === 1) {   // unit: metre
          var perMetre = (bytes[i + 8] << 24 | bytes[i + 9] << 16 | bytes[i + 10] << 8 | bytes[i + 11]) >>> 0;
          return perMetre * 0.0254;
        }
        if (type === "IDAT") break;
        i += 12 + length;
      }
    } catch (e) { /* not a PNG we can read: size by pixels alone */ }
    return null;
  }

  // An output image prints at ``dpi`` (its pixels spread over less paper than on screen, so its
  // text prints smaller than drawn), but never below ``minScale`` of the size it was drawn for,
  // and never wider than the text.
  async function sizeImages(root, dpi, minScale, report) {
    var width = CONTENT_PX();
    var images = Array.prototype.filter.call(root.querySelectorAll("img"), function (img) {
      return img.naturalWidth && img.closest(".cell_output, figure, .dldna-figure-slider");
    });
    for (var k = 0; k < images.length; k++) {
      var img = images[k];
      var drawnDpi = await pngDpi(img.currentSrc || img.src);
      var px = img.naturalWidth * 96 / dpi;
      if (drawnDpi) px = Math.max(px, minScale * img.naturalWidth * 96 / drawnDpi);
      px = Math.min(px, width);
      img.style.width = px.toFixed(1) + "px";
      img.style.maxWidth = "100%";
      img.style.height = "auto";
      var section = img.closest("section.pdf-chapter");
      report.images.push({src: (img.getAttribute("src") || "").substring(0, 60), natural_px: img.naturalWidth,
                          drawn_dpi: drawnDpi && Math.round(drawnDpi), printed_dpi: Math.round(img.naturalWidth / (px / 96)),
                          chapter: section ? headingText(section.querySelector("h1")) : ""});
    }
  }

  function fitWide(root, report) {
    var limit = CONTENT_PX();
    function fit(node, kind, minScale) {
      var scale = 1;
      var available = node.parentElement ? node.parentElement.clientWidth || limit : limit;
      available = Math.min(available, limit);
      var wide = node.scrollWidth;
      if (wide <= available + 0.5) return;
      scale = Math.max(minScale, available / wide * 0.98);
      node.style.fontSize = (scale * 100).toFixed(1) + "%";
      report.shrunk.push({kind: kind, scale: Number(scale.toFixed(2)), text: node.textContent.substring(0, 50)});
    }
    root.querySelectorAll("mjx-container[display='true']").forEach(function (m) { fit(m, "equation", 0.6); });
    root.querySelectorAll("table").forEach(function (t) { fit(t, "table", 0.6); });
  }

  // How far the visible content of a clipping box reaches past its right edge (px). scrollWidth
  // alone over-counts: MathJax's hidden copy for screen readers (mjx-assistive-mml) is wide.
  function clippedBy(box) {
    var edge = box.getBoundingClientRect().left + box.clientLeft + box.clientWidth;
    var reach = edge;
    box.querySelectorAll("*").forEach(function (n) {
      if (n.closest("mjx-assistive-mml")) return;
      var r = n.getBoundingClientRect();
      if (r.width && r.height) reach = Math.max(reach, r.right);
    });
    return reach - edge;
  }

  // Everything on the page that reaches past the page's content box, or whose content is cut
  // off by a scrolling or clipping box (paper does not scroll). Measured in print media at the
  // page's text width.
  function overflowReport(root) {
    var right = root.getBoundingClientRect().right + 1;
    var left = root.getBoundingClientRect().left - 1;
    var found = [];
    var reported = new Set();
    root.querySelectorAll("*").forEach(function (n) {
      if (n.closest("mjx-assistive-mml")) return;
      for (var p = n.parentElement; p && p !== root; p = p.parentElement) if (reported.has(p)) return;
      var r = n.getBoundingClientRect();
      if (!r.width || !r.height) return;
      var style = getComputedStyle(n);
      if (style.visibility === "hidden") return;
      var cut = 0;
      if (style.display !== "inline" && /(auto|scroll|hidden|clip)/.test(style.overflowX) && n.scrollWidth > n.clientWidth + 1) {
        cut = clippedBy(n);
      }
      if (r.right > right || r.left < left || cut > 1) {
        reported.add(n);   // the outermost offender only
        var section = n.closest("section.pdf-chapter");
        found.push({tag: n.tagName.toLowerCase(), cls: String(n.className || "").substring(0, 60),
                    chapter: section ? headingText(section.querySelector("h1")) : "",
                    excess_px: Math.round(Math.max(r.right - right, left - r.left, cut)),
                    clipped: cut > 1, text: (n.textContent || "").replace(/\s+/g, " ").substring(0, 80)});
      }
    });
    return found;
  }

  // ---------------------------------------------------------------- running heads
  function runningHeads(chapters, appendix, config) {
    var rules = [];
    function head(section, i, title) {
      var name = "pdf-ch-" + i;
      section.style.page = name;
      var text = JSON.stringify(title);
      rules.push("@page " + name + " { @top-left { content: " + JSON.stringify(config.title) + "; } " +
                 "@top-right { content: " + text + "; } }");
    }
    chapters.forEach(function (c, i) { head(c.section, i, c.title); });
    if (appendix) head(appendix, chapters.length, config.solutionsTitle);
    var style = el("style");
    style.textContent = rules.join("\n") +
      "\n@page { @top-left { font-family: 'NanumGothic'; font-size: 8pt; color: #555; vertical-align: bottom; padding-bottom: 3mm; }" +
      " @top-right { font-family: 'NanumGothic'; font-size: 8pt; color: #555; vertical-align: bottom; padding-bottom: 3mm; } }";
    document.head.appendChild(style);
  }

  // ---------------------------------------------------------------- entry points
  window.dldnaPrepareBook = function (config) {
    var report = {missing: [], foldedInputs: 0, checkers: 0, sliders: 0, widgets: 0, solutions: 0,
                  images: [], shrunk: [], tocEntries: [], chapters: []};
    var provenanceNode = Array.prototype.find.call(document.querySelectorAll(".cell_output pre"), function (p) {
      return /^실행 정보/.test(p.textContent.trim());
    });
    // the title page names the environment the numbers came from (profile, device, versions);
    // seed and data differ by page and stay in each page's own line
    var provenance = provenanceNode ? provenanceNode.textContent.trim().split("|").map(function (part) {
      return part.trim();
    }).filter(function (part) {
      return /^(프로파일:|장치:|torch |Python )/.test(part);
    }).join(", ") : "";
    var chapters = collectChapters(config, report);
    var root = el("div", "pdf-root");
    chapters.forEach(function (c) {
      normaliseHeadings(c);
      c.section.classList.add("pdf-chapter");
      if (c.firstInPart) c.heading.before(el("div", "pdf-part-label", c.part));
      report.chapters.push(c.title);
    });
    var lastExercise = null;
    chapters.forEach(function (c) { if (config.exerciseDocs.indexOf(c.doc) >= 0) lastExercise = c; });
    if (lastExercise) lastExercise.isLastExercise = true;
    chapters.forEach(function (c) { printCheckers(c.section, report); printSliders(c.section, report); dropInteractiveChrome(c.section, report); });
    var appendix = moveSolutions(chapters, root, report, config);
    root.appendChild(titlePage(config, provenance));
    var toc = contents(chapters, appendix, config);
    root.appendChild(toc.node);
    chapters.forEach(function (c) {
      root.appendChild(c.section);
      if (appendix && c.isLastExercise) root.appendChild(appendix);
    });
    if (appendix) report.chapters.splice(report.chapters.indexOf(lastExercise.title) + 1, 0, config.solutionsTitle);
    report.tocEntries = toc.entries;
    document.body.appendChild(root);
    document.body.classList.add("pdf-book");
    document.title = config.title;
    runningHeads(chapters, appendix, config);
    root.querySelectorAll("img").forEach(function (img) { img.loading = "eager"; img.decoding = "sync"; });
    return report;
  };

  window.dldnaFitBook = async function (dpi, minScale) {
    var root = document.querySelector(".pdf-root");
    var report = {images: [], shrunk: []};
    await sizeImages(root, dpi, minScale, report);
    fitWide(root, report);
    report.overflow = overflowReport(root);
    return report;
  };

  window.dldnaSetPages = function (pages) {
    var missing = [];
    document.querySelectorAll("[data-pdf-page-of]").forEach(function (span) {
      var id = span.getAttribute("data-pdf-page-of");
      if (pages[id] === undefined) { missing.push(id); return; }
      span.textContent = String(pages[id]);
    });
    return missing;
  };
})();
