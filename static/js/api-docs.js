// The API's documentation page: Swagger UI over the generated OpenAPI
// document. A file of its own, so the strict CSP (no inline script) holds.
(() => {
  const start = () => {
    const box = document.getElementById("swagger-ui");
    if (!box || typeof window.SwaggerUIBundle !== "function") return;
    box.textContent = "";
    window.SwaggerUIBundle({
      url: box.dataset.spec,
      domNode: box,
      // Without deep links an operation's summary holds no link inside its
      // button (a control inside a control is lost to screen readers).
      deepLinking: false,
      // Calls from "Try it out" carry the token typed in, never a cookie.
      withCredentials: false,
      persistAuthorization: false,
    });
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
