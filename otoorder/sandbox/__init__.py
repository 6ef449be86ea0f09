"""The sandbox lab of ``make run``: one loopback server that answers every documented format.

Started by ``manage.py sandbox_lab`` (demo mode only). It plays Dreve SmartOrder, Hörluchs,
audia Easy Order, egger's ERP (with its signed ORDERRESPONSE and DISPATCHNOTIFICATION pushes),
the audia and egger web portals, and Otofaktur's Otoport software on the demo exchange
folders — so every interface of otoorder works without a lab account. The demo data writes
its configuration (``var/sandbox.json``). It listens and connects on 127.0.0.1 only and logs
methods, paths, statuses and order ids, never customer data.
"""
