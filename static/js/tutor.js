// The AI tutor panel: a question is sent with the player's position and
// its answer is read as it is written (server-sent events over the POST's
// own response, read with fetch); a [mm:ss] in an answer seeks the player.
// Without this script the form posts and the page shows the answer.
(() => {
  const video = () => document.getElementById("player");

  // Opened at a moment (/learn/topics/..#t=72): the player starts there.
  const startAt = /^#t=(\d+)$/.exec(location.hash);
  if (startAt) {
    const v = video();
    if (v) v.dataset.resumeAt = startAt[1];
  }

  const seek = (secs) => {
    const v = video();
    if (!v) return false;
    v.currentTime = secs;
    if (v.paused) v.play().catch(() => {});
    v.scrollIntoView({ behavior: "smooth", block: "center" });
    v.focus({ preventScroll: true });
    return true;
  };

  // A citation of this lesson's moment seeks instead of leaving the page.
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("a[href*='#t=']");
    if (!link || !link.closest("[data-tutor-panel]")) return;
    const url = new URL(link.href, location.href);
    const t = /^#t=(\d+)$/.exec(url.hash);
    if (!t || url.pathname !== location.pathname) return;
    if (seek(Number(t[1]))) event.preventDefault();
  });

  // Enter sends, Shift+Enter breaks the line.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLTextAreaElement) || !box.form || !box.form.hasAttribute("data-tutor-ask")) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      box.form.requestSubmit();
    }
  });

  const fragment = (html) => {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  };

  // Each `event:`/`data:` block of a server-sent event stream.
  const events = async function* (response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { name, data: data.join("\n") };
      }
    }
  };

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-tutor-ask")) return;
    if (!window.fetch || !window.TextDecoder || !window.ReadableStream) return;
    event.preventDefault();
    const panel = form.closest("[data-tutor-panel]");
    const list = panel.querySelector("[data-tutor-turns]");
    const error = panel.querySelector("[data-tutor-error]");
    const box = form.querySelector("textarea");
    const button = form.querySelector("[data-tutor-send]");
    const question = box.value.trim();
    if (!question) return;
    const v = video();
    form.querySelector("[data-tutor-position]").value = v ? v.currentTime.toFixed(1) : "0";
    const body = new URLSearchParams(new FormData(form));
    error.replaceChildren();
    button.disabled = true;
    // The question shows at once; the answer fills in below it.
    const turn = document.createElement("li");
    turn.className = "tutor-turn";
    turn.dataset.state = "answering";
    const asked = document.createElement("div");
    asked.className = "tutor-question";
    asked.textContent = question;
    const answer = document.createElement("div");
    answer.className = "tutor-answer";
    const text = document.createElement("p");
    text.className = "tutor-stream mb-0";
    text.setAttribute("data-stream", "");
    text.textContent = "…";
    answer.append(text);
    turn.append(asked, answer);
    list.append(turn);
    panel.querySelector("[data-tutor-empty]")?.remove();
    box.value = "";
    let written = "";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: {
          Accept: "text/event-stream",
          "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]')?.content || "",
        },
        credentials: "same-origin",
      });
      const type = response.headers.get("content-type") || "";
      if (!response.ok || !type.startsWith("text/event-stream")) {
        // A refusal (too long, too often): the panel comes back with why.
        turn.remove();
        box.value = question;
        const html = await response.text();
        const again = fragment(html).querySelector("[data-tutor-error]");
        if (again) error.replaceChildren(...again.childNodes);
        else error.textContent = "질문을 보내지 못했습니다. 잠시 뒤 다시 시도해 주세요.";
        return;
      }
      for await (const e of events(response)) {
        if (e.name === "turn") turn.id = `turn-${e.data}`;
        if (e.name === "delta") {
          written += JSON.parse(e.data);
          text.textContent = written;
        }
        if (e.name === "done" || e.name === "failed") {
          const finished = fragment(e.data).firstElementChild;
          if (finished) turn.replaceWith(finished);
          else turn.dataset.state = e.name;
        }
      }
    } catch (_) {
      text.textContent = written || "연결이 끊겼습니다. 대화를 다시 열면 저장된 답변을 볼 수 있습니다.";
    } finally {
      button.disabled = false;
      box.focus();
    }
  });
})();
