// Checkout page: make the subscription and its server-side order, then hand over to the Toss SDK (v2).
(function () {
  const root = document.getElementById('checkout');
  if (!root) return;
  const manager = new SubscriptionManager('/api');
  const errorBox = document.getElementById('checkout-error');
  const buttons = [document.getElementById('payment-button'), document.getElementById('billing-button')];

  function showError(error) {
    errorBox.textContent = (error && error.message) || '결제를 시작하지 못했습니다.';
    errorBox.classList.remove('hidden');
    buttons.forEach((b) => { b.disabled = false; });
  }

  function couponCode() {
    const field = document.getElementById('coupon-code');
    return field && field.value.trim() ? field.value.trim() : undefined;
  }

  function busy() {
    errorBox.classList.add('hidden');
    buttons.forEach((b) => { b.disabled = true; });
  }

  document.getElementById('payment-button').addEventListener('click', async () => {
    busy();
    try {
      const subscription = await manager.createSubscription(root.dataset.planId, undefined, couponCode());
      const order = await manager.createCheckout(subscription.id);
      const payment = TossPayments(order.client_key).payment({ customerKey: order.customer_key });
      await payment.requestPayment({
        method: 'CARD',
        amount: { currency: 'KRW', value: order.amount },
        orderId: order.order_id,
        orderName: order.order_name,
        successUrl: order.success_url,
        failUrl: order.fail_url,
        customerEmail: root.dataset.customerEmail || undefined,
        customerName: root.dataset.customerName || undefined,
      });
    } catch (error) {
      showError(error);
    }
  });

  document.getElementById('billing-button').addEventListener('click', async () => {
    busy();
    try {
      const subscription = await manager.createSubscription(root.dataset.planId, undefined, couponCode());
      const payment = TossPayments(root.dataset.clientKey).payment({ customerKey: subscription.customer_key });
      await payment.requestBillingAuth({
        method: 'CARD',
        successUrl: root.dataset.billingSuccessUrl,
        failUrl: root.dataset.billingFailUrl,
        customerEmail: root.dataset.customerEmail || undefined,
        customerName: root.dataset.customerName || undefined,
      });
    } catch (error) {
      showError(error);
    }
  });
})();
