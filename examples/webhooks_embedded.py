"""Webhooks end to end in one process: record events, deliver them, look at the records.

Run it with ``python examples/webhooks_embedded.py``. It starts the example receiver
(``webhook_receiver.py``, which verifies signatures) on a free local port, keeps everything
in memory, records three events in one transaction, runs the real webhook jobs once, and
prints what the receiver got, the delivery records and the tenant's notifications.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import threading
from pathlib import Path

from scaicontrol_adapters.storage.memory import MemoryStorage
from scaicontrol_core.events import Topic
from scaicontrol_core.ids import RandomIds
from scaicontrol_core.notifications import record_event
from scaicontrol_core.webhooks import UrlPolicy
from scaicontrol_core.webhooks.admin import NewSubscription, create_subscription
from scaicontrol_core.webhooks.samples import sample_event
from scaicontrol_server.clock import SystemClock
from scaicontrol_server.settings import Settings
from scaicontrol_server.webhook_jobs import webhook_jobs
from scaicontrol_server.workers import run_once

sys.path.insert(0, str(Path(__file__).resolve().parent))
import webhook_receiver  # (found through the path above)

__all__ = ["main"]


def main() -> None:
    clock, ids, storage = SystemClock(), RandomIds(), MemoryStorage()
    secret = "whsec_" + secrets.token_urlsafe(32)
    server, inbox = webhook_receiver.make_server(secret)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/webhooks"
    # development settings: plain http to 127.0.0.1 only
    settings = Settings(database_url="memory://", webhook_allow_http=True,
                        webhook_allowlist=("127.0.0.1",))
    policy = UrlPolicy(allow_http=True, allowlist=("127.0.0.1",))

    with storage.unit_of_work() as uow:
        create_subscription(uow, NewSubscription(name="example", target_url=url,
                                                 topics=["subscription.*"], secret=secret),
                            policy=policy, now=clock.now(), ids=ids, random_bytes=b"")
        for topic in (Topic.SUBSCRIPTION_ACTIVATED, Topic.SUBSCRIPTION_TRIAL_ENDING,
                      Topic.PARTNER_BILLING_LINKED):
            record_event(uow, sample_event(topic, now=clock.now(), ids=ids))
        uow.commit()

    for name, handled in asyncio.run(run_once(webhook_jobs(storage, settings, clock), clock)):
        print(f"job {name}: {handled}")
    print(f"receiver accepted {len(inbox.events)} event(s), rejected {inbox.rejected}")
    with storage.unit_of_work(cross_tenant=True) as uow:
        for d in uow.webhook_deliveries.find(order_by=["event_type"]):
            print(f"  delivery {d.event_type:28} {d.status.value:10} HTTP {d.response_code}")
    with storage.unit_of_work(tenant_id="tnt_demo_acme") as uow:
        for n in uow.notifications.find_for_user("usr_demo_acme_user"):
            print(f"  notification: {n.title}: {n.message}")
    server.shutdown()


if __name__ == "__main__":
    main()
