// Weaverse page glue: htmx sends the CSRF token from <meta name="csrf-token">.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.content;
  }
});

// Video uploads: the studio form is sent with XHR so a progress bar can show
// how much has gone; without JS it is a normal form post.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload")) return;
  if (!window.FormData || !window.XMLHttpRequest) return;
  event.preventDefault();
  const bar = form.querySelector("[data-upload-progress]");
  const status = form.querySelector("[data-upload-status]");
  const button = form.querySelector("button[type=submit]");
  const xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) xhr.setRequestHeader("X-CSRF-Token", meta.content);
  // Answered like htmx: a redirect comes as HX-Redirect, so the flash
  // message is shown by the page we go to, not used up by this request.
  xhr.setRequestHeader("HX-Request", "true");
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.floor((e.loaded / e.total) * 100);
    bar.value = percent;
    status.textContent = `업로드 중 ${percent}%`;
  });
  xhr.addEventListener("load", () => {
    const to = xhr.getResponseHeader("HX-Redirect");
    if (to) {
      window.location.assign(to);
      return;
    }
    const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const main = page.querySelector("main");
    if (main) document.querySelector("main").replaceWith(main);
    else status.textContent = "올리지 못했습니다. 다시 시도해 주세요.";
  });
  xhr.addEventListener("error", () => {
    status.textContent = "연결이 끊겨 업로드하지 못했습니다. 다시 시도해 주세요.";
    button.disabled = false;
  });
  bar.classList.remove("d-none");
  button.disabled = true;
  status.textContent = "업로드 중 0%";
  xhr.send(new FormData(form));
});

// Studio outline: after an htmx change, say what happened in the polite
// live region (old banners go) and put focus on the new or changed item, or
// on the field that needs fixing, instead of leaving it on <body>.
(() => {
  const ITEMS = "[data-topic-id],[data-lecture-id]";
  const FOCUSABLE = "a[href], input:not([type=hidden]), select, textarea, button";
  const key = (el) =>
    el.dataset.topicId ? `[data-topic-id="${el.dataset.topicId}"]` : `[data-lecture-id="${el.dataset.lectureId}"]`;
  let before = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const outline = document.getElementById("outline");
    const elt = event.detail.elt;
    if (!outline || !outline.contains(elt)) return;
    const item = elt.closest(ITEMS);
    const button = elt.querySelector ? elt.querySelector("button[aria-label]") : null;
    before = {
      keys: new Set([...outline.querySelectorAll(ITEMS)].map(key)),
      item: item ? key(item) : null,
      label: button ? button.getAttribute("aria-label") : null,
    };
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const outline = event.detail.target;
    if (!outline || outline.id !== "outline" || !before) return;
    const seen = before;
    before = null;
    const items = [...outline.querySelectorAll(ITEMS)];
    const added = items.filter((el) => !seen.keys.has(key(el))).pop();
    const same = seen.item ? outline.querySelector(seen.item) : null;
    const target =
      outline.querySelector(".is-invalid") ||
      (added && added.querySelector(FOCUSABLE)) ||
      (same && seen.label && [...same.querySelectorAll("button[aria-label]")].find((b) => b.getAttribute("aria-label") === seen.label)) ||
      (same && same.querySelector(FOCUSABLE));
    if (target) target.focus();
    const alerts = document.getElementById("page-alerts");
    const notice = outline.querySelector("[data-outline-notice]");
    if (alerts) {
      alerts.replaceChildren();
      if (notice) {
        const box = document.createElement("div");
        box.className = "alert alert-success";
        box.setAttribute("role", "status");
        box.textContent = notice.textContent;
        alerts.append(box);
      }
    }
  });
})();

// Code editors (.code-editor): Tab indents and Shift+Tab outdents the
// selected lines; Esc then Tab leaves the editor, so a keyboard is never
// trapped. A mission's editor (data-draft-url) keeps what is typed as a
// draft on the server once the learner pauses, and when the page is left.
(() => {
  const INDENT = "  ";
  let escaped = null;
  const isEditor = (el) => el instanceof HTMLTextAreaElement && el.classList.contains("code-editor");
  const replace = (ed, from, to, text) => {
    ed.focus();
    ed.setSelectionRange(from, to);
    // insertText keeps the browser's undo history; setRangeText is the fallback.
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      ed.setRangeText(text, from, to, "end");
      ed.dispatchEvent(new Event("input", { bubbles: true }));
    }
  };
  document.addEventListener("keydown", (e) => {
    const ed = e.target;
    if (!isEditor(ed)) return;
    if (e.key === "Escape") {
      escaped = ed;
      return;
    }
    if (e.key !== "Tab" || e.altKey || e.ctrlKey || e.metaKey) {
      escaped = null;
      return;
    }
    if (escaped === ed) {
      // Esc, then Tab: the browser moves the focus on.
      escaped = null;
      return;
    }
    e.preventDefault();
    const { selectionStart: start, selectionEnd: end, value } = ed;
    if (start === end && !e.shiftKey) {
      replace(ed, start, end, INDENT);
      return;
    }
    const from = value.lastIndexOf("\n", start - 1) + 1;
    const lines = value.slice(from, end).split("\n");
    const changed = lines.map((line) =>
      e.shiftKey ? line.replace(new RegExp(`^ {1,${INDENT.length}}`), "") : INDENT + line,
    );
    const text = changed.join("\n");
    replace(ed, from, end, text);
    ed.setSelectionRange(from, from + text.length);
  });

  const timers = new WeakMap();
  const pending = new Set();
  const save = (ed, keepalive = false) => {
    pending.delete(ed);
    const meta = document.querySelector('meta[name="csrf-token"]');
    const body = new URLSearchParams({ question_id: ed.dataset.question, code: ed.value });
    const status = document.getElementById(ed.dataset.draftStatus);
    fetch(ed.dataset.draftUrl, {
      method: "POST",
      body,
      keepalive,
      headers: meta ? { "X-CSRF-Token": meta.content } : {},
    })
      .then((r) => {
        if (status) status.textContent = r.ok ? "임시 저장됨" : "임시 저장하지 못했습니다";
      })
      .catch(() => {
        if (status) status.textContent = "임시 저장하지 못했습니다";
      });
  };
  document.addEventListener("input", (e) => {
    const ed = e.target;
    if (!isEditor(ed) || !ed.dataset.draftUrl) return;
    pending.add(ed);
    clearTimeout(timers.get(ed));
    timers.set(ed, setTimeout(() => save(ed), 1200));
  });
  const flush = () => {
    for (const ed of [...pending]) save(ed, true);
  };
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
})();

// Studio previews (video[data-preview-src]): the HLS the learner gets, with
// its captions, through the browser's own HLS or hls.js. Started again when
// htmx swaps the video panel in (a video that just finished transcoding).
(() => {
  const start = () => {
    for (const video of document.querySelectorAll("video[data-preview-src]:not([data-started])")) {
      video.dataset.started = "1";
      const src = video.dataset.previewSrc;
      if (window.Hls && window.Hls.isSupported()) {
        const hls = new window.Hls({ enableWorker: false });
        hls.loadSource(src);
        hls.attachMedia(video);
      } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
        video.src = src;
      }
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
})();
