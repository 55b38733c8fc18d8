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
