// `GET /v2/standard`: a stand-in for https://js.tosspayments.com/v2/standard
// exposing the v2 payment-window API (TossPayments(clientKey).payment({customerKey})
// → requestPayment / requestBillingAuth). Instead of opening Toss's window it
// navigates to the sandbox's card form.

import JSON

enum JSSDK {
    static func script(config: SandboxConfig) -> String {
        source
            .replacingOccurrences(of: "__SANDBOX_DEFAULT_ORIGIN__", with: jsString(config.publicURL))
            .replacingOccurrences(of: "__SANDBOX_CLIENT_KEY__", with: config.clientKey.map(jsString) ?? "null")
    }

    static func jsString(_ s: String) -> String {
        // JSON string syntax is valid JS; escape `<` so it can't close a script tag.
        JSON.string(s).serializedString().replacingOccurrences(of: "<", with: "\\u003c")
    }

    private static let source = #"""
/* Toss Payments JS SDK v2 — gudok SANDBOX stand-in. Not the real SDK. */
(function (window) {
  "use strict";
  if (window.TossPayments && window.TossPayments.__sandbox) { return; }

  var DEFAULT_ORIGIN = __SANDBOX_DEFAULT_ORIGIN__;
  var CONFIGURED_CLIENT_KEY = __SANDBOX_CLIENT_KEY__;
  var ANONYMOUS = "@@ANONYMOUS";
  var ORDER_ID = /^[A-Za-z0-9_=-]{6,64}$/;
  var CUSTOMER_KEY = /^[A-Za-z0-9_=.@-]{2,50}$/;

  var BASE = (function () {
    try {
      var s = document.currentScript && document.currentScript.src;
      if (s) {
        var u = new URL(s, window.location.href);
        var path = u.pathname.replace(/\/v2\/standard\/?$/, "");
        return u.origin + path.replace(/\/$/, "");
      }
    } catch (e) { /* fall through */ }
    return DEFAULT_ORIGIN;
  })();

  function TossPaymentsError(code, message) {
    var e = new Error(message);
    e.name = "TossPaymentsError";
    e.code = code;
    return e;
  }

  function reject(code, message) {
    return Promise.reject(TossPaymentsError(code, message));
  }

  function isString(v) { return typeof v === "string"; }

  function optionalText(opts, key, max) {
    var v = opts[key];
    if (v === undefined || v === null) { return null; }
    if (!isString(v) || v.length > max) {
      throw TossPaymentsError("INVALID_PARAMETERS", key + "는 " + max + "자 이하의 문자열이어야 합니다.");
    }
    return v;
  }

  function absoluteUrl(key, v) {
    if (!isString(v) || v.length === 0) {
      throw TossPaymentsError("INVALID_URL", key + "가 필요합니다. (SANDBOX는 Promise 방식을 지원하지 않습니다)");
    }
    var u;
    try { u = new URL(v, window.location.href); } catch (e) {
      throw TossPaymentsError("INVALID_URL", key + "가 올바른 URL이 아닙니다.");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw TossPaymentsError("INVALID_URL", key + "는 http(s) URL이어야 합니다.");
    }
    return u.href;
  }

  function checkClientKey(clientKey) {
    if (!isString(clientKey) || clientKey.length === 0) {
      throw TossPaymentsError("INVALID_CLIENT_KEY", "클라이언트 키가 필요합니다.");
    }
    if (/^(test|live)_g?sk_/.test(clientKey)) {
      throw TossPaymentsError("INSECURE_KEY_USAGE", "시크릿 키는 브라우저에서 사용할 수 없습니다. 클라이언트 키를 사용하세요.");
    }
    if (CONFIGURED_CLIENT_KEY !== null && clientKey !== CONFIGURED_CLIENT_KEY) {
      throw TossPaymentsError("INVALID_CLIENT_KEY", "등록되지 않은 클라이언트 키입니다.");
    }
    if (CONFIGURED_CLIENT_KEY === null && !/^test_g?ck_/.test(clientKey)) {
      throw TossPaymentsError("INVALID_CLIENT_KEY", "SANDBOX는 test_ck_ 로 시작하는 테스트 클라이언트 키만 받습니다.");
    }
  }

  function checkCustomerKey(customerKey, allowAnonymous) {
    if (customerKey === ANONYMOUS) {
      if (allowAnonymous) { return; }
      throw TossPaymentsError("INVALID_CUSTOMER_KEY", "자동결제(빌링)에는 ANONYMOUS가 아닌 customerKey가 필요합니다.");
    }
    if (!isString(customerKey) || !CUSTOMER_KEY.test(customerKey)) {
      throw TossPaymentsError("INVALID_CUSTOMER_KEY",
        "customerKey는 영문 대소문자, 숫자, 특수문자 -, _, =, ., @ 로 이루어진 2자 이상 50자 이하의 문자열이어야 합니다.");
    }
    if (/^(test|live)_g?sk_/.test(customerKey)) {
      throw TossPaymentsError("INSECURE_KEY_USAGE", "customerKey에 시크릿 키를 사용할 수 없습니다.");
    }
  }

  function checkMethod(opts) {
    if (opts.method === undefined || opts.method === null) {
      throw TossPaymentsError("INVALID_METHOD", "method가 필요합니다.");
    }
    if (isString(opts.method) && /[가-힣]/.test(opts.method)) {
      throw TossPaymentsError("V1_METHOD_NOT_SUPPORTED", "v1 방식의 결제수단('카드' 등)은 v2 SDK에서 지원하지 않습니다. method: \"CARD\"를 사용하세요.");
    }
    if (opts.method !== "CARD") {
      throw TossPaymentsError("NOT_SUPPORTED_METHOD", "SANDBOX는 method: \"CARD\"만 지원합니다.");
    }
  }

  function go(path, params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined) { q.append(k, String(params[k])); }
    });
    window.location.href = BASE + path + "?" + q.toString();
    // The page is navigating away; like the real redirect flow, never settle.
    return new Promise(function () {});
  }

  function TossPayments(clientKey) {
    if (!(this instanceof TossPayments)) { return new TossPayments(clientKey); }
    this.__clientKey = clientKey;
  }

  TossPayments.ANONYMOUS = ANONYMOUS;
  TossPayments.__sandbox = true;

  TossPayments.prototype.payment = function (init) {
    var clientKey = this.__clientKey;
    var customerKey = init && typeof init === "object" ? init.customerKey : undefined;
    return {
      requestPayment: function (opts) {
        try {
          checkClientKey(clientKey);
          checkCustomerKey(customerKey, true);
          if (!opts || typeof opts !== "object") { throw TossPaymentsError("INVALID_PARAMETERS", "결제 요청 정보가 필요합니다."); }
          checkMethod(opts);
          var amount = opts.amount;
          if (!amount || typeof amount !== "object") {
            throw TossPaymentsError("INVALID_AMOUNT_VALUE", "amount는 { currency: \"KRW\", value: 숫자 } 형태여야 합니다.");
          }
          if (amount.currency !== "KRW") {
            throw TossPaymentsError("INVALID_CURRENCY", "SANDBOX 카드 결제는 KRW만 지원합니다.");
          }
          if (typeof amount.value !== "number" || !isFinite(amount.value) || Math.floor(amount.value) !== amount.value || amount.value <= 0) {
            throw TossPaymentsError("INVALID_AMOUNT_VALUE", "amount.value는 0보다 큰 정수여야 합니다.");
          }
          if (!isString(opts.orderId) || !ORDER_ID.test(opts.orderId)) {
            throw TossPaymentsError("INVALID_ORDER_ID", "orderId는 영문 대소문자, 숫자, 특수문자 -, _, = 로 이루어진 6자 이상 64자 이하의 문자열이어야 합니다.");
          }
          if (!isString(opts.orderName) || opts.orderName.length === 0 || opts.orderName.length > 100) {
            throw TossPaymentsError("INVALID_ORDER_NAME", "orderName은 1자 이상 100자 이하의 문자열이어야 합니다.");
          }
          var successUrl = absoluteUrl("successUrl", opts.successUrl);
          var failUrl = absoluteUrl("failUrl", opts.failUrl);
          return go("/sandbox/payment", {
            clientKey: clientKey,
            customerKey: customerKey,
            method: "CARD",
            currency: "KRW",
            amount: amount.value,
            orderId: opts.orderId,
            orderName: opts.orderName,
            successUrl: successUrl,
            failUrl: failUrl,
            customerEmail: optionalText(opts, "customerEmail", 100),
            customerName: optionalText(opts, "customerName", 100)
          });
        } catch (e) {
          return Promise.reject(e);
        }
      },
      requestBillingAuth: function (opts) {
        try {
          checkClientKey(clientKey);
          checkCustomerKey(customerKey, false);
          if (!opts || typeof opts !== "object") { throw TossPaymentsError("INVALID_PARAMETERS", "카드 등록 요청 정보가 필요합니다."); }
          checkMethod(opts);
          var successUrl = absoluteUrl("successUrl", opts.successUrl);
          var failUrl = absoluteUrl("failUrl", opts.failUrl);
          return go("/sandbox/billing-auth", {
            clientKey: clientKey,
            customerKey: customerKey,
            method: "CARD",
            successUrl: successUrl,
            failUrl: failUrl,
            customerEmail: optionalText(opts, "customerEmail", 100),
            customerName: optionalText(opts, "customerName", 100)
          });
        } catch (e) {
          return Promise.reject(e);
        }
      },
      destroy: function () { return Promise.resolve(); }
    };
  };

  TossPayments.prototype.widgets = function () {
    throw TossPaymentsError("NOT_SUPPORTED_IN_SANDBOX", "SANDBOX는 결제위젯(widgets)을 지원하지 않습니다. payment()를 사용하세요.");
  };
  TossPayments.prototype.brandpay = function () {
    throw TossPaymentsError("NOT_SUPPORTED_IN_SANDBOX", "SANDBOX는 브랜드페이를 지원하지 않습니다.");
  };
  TossPayments.prototype.requestPayment = function () {
    return reject("V1_METHOD_NOT_SUPPORTED", "v1 방식(TossPayments(clientKey).requestPayment('카드', …))은 v2 SDK에서 지원하지 않습니다.");
  };
  TossPayments.prototype.requestBillingAuth = TossPayments.prototype.requestPayment;

  window.TossPayments = TossPayments;
  window.loadTossPayments = function (clientKey) { return Promise.resolve(TossPayments(clientKey)); };
})(window);
"""#
}
