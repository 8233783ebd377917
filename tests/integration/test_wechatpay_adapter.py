"""The WeChat Pay v3 merchant-transfer adapter against a loopback fake that checks the
request signatures, signs its answers and is idempotent on out_batch_no."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from fakes.server import run_asgi_app, unused_base_url
from fakes.wechatpay import FakeWeChatPay

from app.domain.rewards.model import PayoutStatus, payout_numbers
from app.domain.rewards.ports import Payee, PayoutRequest
from app.infra.payments.wechatpay import WeChatPayGateway

MERCHANT = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM = rsa.generate_private_key(public_exponent=65537, key_size=2048)
APPID = "wxd678efh567hg6787"


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeWeChatPay, str]]:
    fake = FakeWeChatPay(MERCHANT.public_key(), PLATFORM)
    with run_asgi_app(fake.app) as base_url:
        yield fake, base_url


@pytest.fixture
def fake(served: tuple[FakeWeChatPay, str]) -> FakeWeChatPay:
    fake = served[0]
    fake.tamper_responses = False
    fake.stall_after_accept_s = 0.0
    return fake


def gateway(
    base_url: str, *, key: rsa.RSAPrivateKey = MERCHANT, timeout_s: float = 5.0
) -> WeChatPayGateway:
    return WeChatPayGateway(
        base_url=base_url,
        mchid="1900000109",
        appid=APPID,
        serial_no="3775B6A45ACD588826D15E583A95F5DD12345678",
        private_key_pem=_pem(key),
        platform_cert_pem=_certificate(PLATFORM),
        timeout_s=timeout_s,
    )


def request(
    openid: str | None = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", amount: int = 800
) -> PayoutRequest:
    batch, detail = payout_numbers(uuid.uuid4())
    return PayoutRequest(batch, detail, Payee(uuid.uuid4(), openid), amount, "守望志愿者奖励")


async def test_transfer_is_signed_accepted_and_idempotent(
    fake: FakeWeChatPay, served: tuple[FakeWeChatPay, str]
) -> None:
    pay = gateway(served[1])
    wanted = request()
    before = len(fake.paid)
    first = await pay.transfer(wanted)
    # Accepted, not yet paid: the result comes by callback or by query.
    assert (first.status, first.failure) == (PayoutStatus.UNKNOWN, "accepted_processing")
    assert first.provider_ref
    again = await pay.transfer(wanted)  # the same out_batch_no: the provider pays nothing more
    assert (again.status, again.provider_ref) == (PayoutStatus.UNKNOWN, first.provider_ref)
    [paid] = fake.paid[before:]
    assert paid == {
        "out_detail_no": wanted.out_detail_no,
        "transfer_amount": 800,
        "transfer_remark": "守望志愿者奖励",
        "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "appid": APPID,
    }
    found = await pay.query(wanted)
    assert found.status == PayoutStatus.SUCCEEDED
    assert (await pay.query(request())).status == PayoutStatus.NOT_FOUND


async def test_timeout_after_accept_is_unknown_then_query_settles_without_resending(
    fake: FakeWeChatPay, served: tuple[FakeWeChatPay, str]
) -> None:
    pay = gateway(served[1], timeout_s=0.5)
    wanted = request(amount=1500)
    before = len(fake.paid)
    fake.stall_after_accept_s = 2.0
    lost = await pay.transfer(wanted)
    assert lost.status == PayoutStatus.UNKNOWN  # the answer never came
    assert len(fake.paid) == before + 1  # ... but the provider did accept it
    settled = await pay.query(wanted)  # reconciliation asks before sending anything
    assert settled.status == PayoutStatus.SUCCEEDED
    assert len(fake.paid) == before + 1


async def test_bad_signatures_either_way(
    fake: FakeWeChatPay, served: tuple[FakeWeChatPay, str]
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    before = len(fake.paid)
    refused = await gateway(served[1], key=stranger).transfer(request())
    assert (refused.status, refused.failure) == (PayoutStatus.FAILED, "SIGN_ERROR")
    assert len(fake.paid) == before
    fake.tamper_responses = True
    untrusted = await gateway(served[1]).transfer(request())
    assert untrusted.status == PayoutStatus.UNKNOWN  # an answer we cannot trust
    assert untrusted.failure == "untrusted_answer"


async def test_no_openid_or_no_server() -> None:
    nobody = await gateway(unused_base_url()).transfer(request(openid=None))
    assert (nobody.status, nobody.failure) == (PayoutStatus.FAILED, "payee_has_no_openid")
    down = await gateway(unused_base_url()).transfer(request())
    assert down.status == PayoutStatus.UNKNOWN
    assert (await gateway(unused_base_url()).query(request())).status == PayoutStatus.UNKNOWN
