// Billing module
