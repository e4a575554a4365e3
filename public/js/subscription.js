// The seed's SubscriptionManager, working against gudok's API (CSRF included).
class SubscriptionManager {
  constructor(apiBaseUrl = '/api') {
    this.apiBaseUrl = apiBaseUrl;
  }

  async getPlans() {
    return this.request('GET', '/subscriptions/plans');
  }

  async createSubscription(planId, customerKey, coupon) {
    const body = { plan_id: planId };
    if (customerKey) body.customer_key = customerKey;
    if (coupon) body.coupon = coupon;
    return this.request('POST', '/subscriptions/subscribe', body);
  }

  async createCheckout(subscriptionId) {
    return this.request('POST', `/subscriptions/${encodeURIComponent(subscriptionId)}/checkout`, {});
  }

  async confirmPayment(paymentKey, orderId, amount) {
    return this.request('POST', '/subscriptions/payments/confirm', { payment_key: paymentKey, order_id: orderId, amount });
  }

  async issueBillingKey(customerKey, authKey) {
    return this.request('POST', '/subscriptions/billing/issue', { customer_key: customerKey, auth_key: authKey });
  }

  async mySubscriptions() {
    return this.request('GET', '/subscriptions/my-subscriptions');
  }

  async cancelSubscription(subscriptionId, atPeriodEnd = true) {
    return this.request('POST', `/subscriptions/cancel/${encodeURIComponent(subscriptionId)}`, { at_period_end: atPeriodEnd });
  }

  async request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRFToken'] = this.getCsrfToken();
    }
    const response = await fetch(`${this.apiBaseUrl}${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) {
      const error = new Error((data && data.message) || `요청이 실패했습니다 (${response.status})`);
      error.code = data && data.code;
      error.status = response.status;
      throw error;
    }
    return data;
  }

  getCsrfToken() {
    const field = document.querySelector('[name=csrfmiddlewaretoken]');
    if (field) return field.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const meta = document.querySelector('meta[name=csrf-token]');
    return meta ? meta.content : '';
  }
}

window.SubscriptionManager = SubscriptionManager;
