"""A small demo data set for the dashboard (scripts/ui-screenshots.sh and the
page tests): a tenant with two portal sources, an internal website target
and a webhook push target, a few days' worth of imports and syncs, hand
edits that conflict, and a receiver that refuses the push (dead letters)."""
import random

from harness import Receiver

CITIES = ["Berlin", "Hamburg", "Munich", "Cologne", "Leipzig", "Dresden", "Bremen", "Hanover"]
STREETS = ["Lindenstr.", "Hauptstr.", "Gartenweg", "Am Markt", "Bahnhofstr.", "Schillerplatz",
           "Rosenweg", "Kirchgasse"]
KINDS = ["flat", "house", "loft", "maisonette"]


def listing(rng, i, prefix):
    kind = rng.choice(KINDS)
    rooms = rng.randint(1, 6)
    area = rooms * rng.randint(18, 32)
    return {
        "external_id": "%s-%05d" % (prefix, i),
        "title": "%d-room %s in %s" % (rooms, kind, rng.choice(CITIES)),
        "address": "%s %d" % (rng.choice(STREETS), rng.randint(1, 120)),
        "city": rng.choice(CITIES),
        "price": rng.randrange(120_000, 1_400_000, 500),
        "rooms": rooms,
        "area_m2": area,
        "status": "available",
        "scraped_at": "2026-03-0%dT06:00:00Z" % rng.randint(1, 9),
    }


def seed(server, n=240, push_receiver=None):
    """Seeds the demo tenant; → dict(key, api, source, source2, target, push, receiver, ids)."""
    rng = random.Random(7)
    _, api = server.admin.new_tenant("Acme Estates")
    server.admin.new_tenant("Nordhaus Immobilien")
    src = api.post("/sources", {"name": "immoportal", "config": {"ignore_fields": ["scraped_at"]}})["id"]
    src2 = api.post("/sources", {"name": "homesearch"})["id"]
    tgt = api.post("/targets", {"name": "acme-website"})["id"]
    receiver = push_receiver or Receiver(status=400)
    push = api.post("/targets", {"name": "website-webhook", "type": "webhook",
                                 "config": {"url": receiver.url, "batch_size": 50}})["id"]

    day1 = [listing(rng, i, "IP") for i in range(n)]
    api.import_(src, day1, "full")
    api.import_(src2, [listing(rng, i, "HS") for i in range(n // 3)])
    api.post("/sync/%d/%d" % (src, tgt))
    api.post("/sync/%d/%d" % (src, push))
    api.post("/sync/%d/%d" % (src2, tgt))
    # Following days: a few price changes, some sold, a few new.
    items = day1
    for day in range(2, 6):
        items = [dict(x) for x in items]
        for x in rng.sample(items, max(3, n // 25)):
            x["price"] = int(x["price"] * rng.uniform(0.9, 0.98))
        for x in rng.sample(items, max(1, n // 60)):
            x["status"] = "reserved"
        items = [x for x in items if rng.random() > 0.01]
        items += [listing(rng, n * day + i, "IP") for i in range(rng.randint(2, 8))]
        api.import_(src, items, "full")
        api.post("/sync/%d/%d" % (src, tgt))
        api.post("/sync/%d/%d" % (src, push))
        if day == 3:
            # The agency fixes two listings by hand on its website.
            for x in items[:2]:
                edited = dict(x, title=x["title"] + " (renovated)", price=x["price"] + 15_000)
                api.put("/targets/%d/properties/%s" % (tgt, x["external_id"]), edited)
    # And today's import brings changes the hand edits now conflict with.
    items = [dict(x) for x in items]
    for x in items[:2]:
        x["price"] -= 5_000
    api.import_(src, items, "full")
    return {"key": api.key, "api": api, "source": src, "source2": src2, "target": tgt, "push": push,
            "receiver": receiver, "ids": [x["external_id"] for x in items]}
