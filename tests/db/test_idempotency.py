import threading
import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from db import idempotency, users
from db.idempotency import StoredResponse
from db.tables import IdempotencyRecord, User
from tests.conftest import NOW
from tests.db.test_repositories import new_user

RESPONSE = StoredResponse(status=201, headers={"location": "/v1/users/u"}, body=b"{}")


def claim(
    session: Session,
    key: str,
    *,
    lease: str = "a" * 32,
    owner: str = "client",
    user_id: str = "person",
) -> bool:
    record = IdempotencyRecord(
        owner=owner,
        key=key,
        fingerprint="f",
        method="POST",
        path="/v1/users",
        user_id=user_id,
        lease=lease,
        locked_at=NOW,
        created_at=NOW,
    )
    return idempotency.insert_claim(session, record=record)


def complete(session: Session, key: str, lease: str = "a" * 32) -> str:
    return idempotency.complete(
        session, owner="client", key=key, lease=lease, response=RESPONSE, user_id=None, now=NOW
    )


def test_a_key_is_claimed_once_per_owner(session: Session) -> None:
    assert claim(session, "k")
    assert not claim(session, "k", lease="b" * 32)
    assert claim(session, "k", owner="other")


def test_only_the_lease_holder_completes(session: Session) -> None:
    claim(session, "k")
    assert complete(session, "k", lease="b" * 32) == "lost"
    assert complete(session, "k") == "stored"
    stored = idempotency.find(session, owner="client", key="k")
    assert stored is not None
    assert (stored.status, stored.headers, stored.body, stored.lease) == (
        201,
        RESPONSE.headers,
        b"{}",
        None,
    )
    assert stored.user_id == "person"
    # A completed key cannot be taken over or released.
    assert not idempotency.take_over(
        session, owner="client", key="k", stale_lease="a" * 32, lease="c" * 32, now=NOW
    )
    idempotency.release(session, owner="client", key="k", lease="a" * 32)
    assert idempotency.find(session, owner="client", key="k") is not None


def test_an_abandoned_claim_is_taken_over_once(session: Session) -> None:
    claim(session, "k")
    later = NOW + timedelta(minutes=2)
    takes = [
        idempotency.take_over(
            session, owner="client", key="k", stale_lease="a" * 32, lease=lease * 32, now=later
        )
        for lease in "bc"
    ]
    assert takes == [True, False]
    assert complete(session, "k") == "lost"
    assert complete(session, "k", lease="b" * 32) == "stored"


def test_erased_and_pruned_keys_are_gone(session: Session) -> None:
    claim(session, "k")
    claim(session, "old", owner="other")
    idempotency.forget_user(session, user_id="person")
    assert complete(session, "k") == "gone"
    assert idempotency.about_user(session, user_id="person") == []
    claim(session, "k2")
    assert idempotency.prune(session, before=NOW + timedelta(seconds=1), owner="client") == 1
    assert idempotency.find(session, owner="client", key="k2") is None


def test_erasing_a_person_waits_for_a_request_about_them_in_flight(engine: Engine) -> None:
    # A PATCH holds the person's row and has yet to store its response in its
    # claim row; the erasure of the person deletes that row. Were the erasure
    # to delete first and wait for the person after, PostgreSQL would find a
    # deadlock (seen once under Schemathesis). It waits for the person first.
    key = f"k-{uuid.uuid4().hex}"
    with Session(engine) as setup:
        person = new_user(setup, external_id=key)
        assert claim(setup, key, user_id=person.id)
        setup.commit()
        person_id, client_id = person.id, person.client_id
    failures: list[BaseException] = []

    def erase() -> None:
        try:
            with Session(engine) as erasing:
                users.delete_user(erasing, client_id=client_id, user_id=person_id, now=NOW)
                erasing.commit()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    with Session(engine) as updating:
        users.lock_user(updating, user=updating.get_one(User, person_id))
        eraser = threading.Thread(target=erase)
        eraser.start()
        eraser.join(timeout=0.5)  # let the erasure reach the person's row
        assert complete(updating, key) == "stored"
        updating.commit()
    eraser.join()
    assert failures == []
    with Session(engine) as after:
        assert after.get(User, person_id) is None
        assert idempotency.find(after, owner="client", key=key) is None
