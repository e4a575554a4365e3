// Account page: "카드 변경" registers a new card for the subscription through the Toss SDK's billing auth.
(function () {
  const root = document.getElementById('account');
  if (!root) return;
  document.querySelectorAll('.change-card-button').forEach((button) => {
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const payment = TossPayments(root.dataset.clientKey).payment({ customerKey: button.dataset.customerKey });
        await payment.requestBillingAuth({
          method: 'CARD',
          successUrl: root.dataset.billingSuccessUrl,
          failUrl: root.dataset.billingFailUrl,
          customerEmail: root.dataset.customerEmail || undefined,
          customerName: root.dataset.customerName || undefined,
        });
      } catch (error) {
        button.disabled = false;
        alert((error && error.message) || '카드 변경을 시작하지 못했습니다.');
      }
    });
  });
})();
