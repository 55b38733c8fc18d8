// Opens Toss Payments' window with the order the server rendered into
// #toss-checkout (the SDK is loaded from js.tosspayments.com on this page).
(() => {
  const box = document.getElementById("toss-checkout");
  if (!box) return;
  const d = box.dataset;
  const open = async () => {
    try {
      const toss = window.TossPayments(d.clientKey);
      const payment = toss.payment({ customerKey: d.customerKey });
      await payment.requestPayment({
        method: "CARD",
        amount: { currency: "KRW", value: Number(d.amount) },
        orderId: d.orderId,
        orderName: d.orderName,
        successUrl: d.successUrl,
        failUrl: d.failUrl,
      });
    } catch (err) {
      document.getElementById("toss-error").classList.remove("d-none");
    }
  };
  document.getElementById("toss-pay").addEventListener("click", open);
  window.addEventListener("load", () => {
    if (window.TossPayments) open();
  });
})();
