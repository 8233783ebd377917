"""Payment adapters of the rewards context (``PaymentGateway``)."""
