"""The staff desk: the customer and transaction pages with the Bestellservice step.

It sits on top of ``otoorder.orders`` (the step places orders) and ``otoorder.transactions``
(customers and transactions); it holds no models. Its URLs keep the namespace ``transactions``.
"""
