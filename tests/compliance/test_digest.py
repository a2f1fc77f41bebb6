"""After each sweep, each 街办's clerks get one email with what it opened for them."""

from datetime import date

import pytest

from communities.models import Community
from compliance import digest, services
from compliance.models import Sweep

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def _live_on_as_of(today):
    """These sweeps are today's (live) sweeps: "today" is the as-of date."""
    today(AS_OF)
RULES = ["M04.households"]


@pytest.fixture
def clerks(clerk_qingnian, clerk_zaoyuan, streets):
    from django.contrib.auth.models import Group

    from tests.conftest import _user

    clerk_qingnian.email = "qn@lianhu.local"
    clerk_qingnian.save()
    clerk_zaoyuan.email = "zy@lianhu.local"
    clerk_zaoyuan.save()
    second = _user("clerk_qn2", "街办办事员", streets["qingnian"].clerk_group.name)
    second.email = "qn2@lianhu.local"
    second.save()
    gone = _user("clerk_qn_gone", "街办办事员", streets["qingnian"].clerk_group.name)
    gone.email = "gone@lianhu.local"
    gone.is_active = False
    gone.save()
    assert Group.objects.filter(name="街办办事员").exists()


def sweep(django_capture_on_commit_callbacks, as_of=AS_OF):
    with django_capture_on_commit_callbacks(execute=True):
        return services.sweep_run(as_of=as_of, rule_ids=RULES)


def test_one_email_per_street_with_only_its_findings(make_community, clerks, mailoutbox,
                                                     django_capture_on_commit_callbacks):
    qn1 = make_community("qingnian", households=500, name="青年一社区")
    qn2 = make_community("qingnian", households=6000, name="青年二社区")
    make_community("qingnian", households=3000, name="青年达标社区")
    zy = make_community("zaoyuan", households=700, name="枣园一社区")
    s = sweep(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    by_to = {tuple(m.to): m for m in mailoutbox}
    qn_mail = by_to[("qn2@lianhu.local", "qn@lianhu.local")]  # the inactive clerk gets nothing
    zy_mail = by_to[("zy@lianhu.local",)]
    assert qn_mail.subject == "【合规巡检】青年路街道 2025-06-30：新发现 2 项问题"
    assert qn1.code in qn_mail.body and qn2.code in qn_mail.body
    assert zy.code not in qn_mail.body and "青年达标社区" not in qn_mail.body
    assert zy.code in zy_mail.body and qn1.code not in zy_mail.body
    assert "户数 500 户" in qn_mail.body
    s.refresh_from_db()
    assert s.digest_sent_at is not None


def test_next_sweep_mails_only_what_it_newly_opened(make_community, clerks, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    make_community("qingnian", households=500)
    sweep(django_capture_on_commit_callbacks)
    mailoutbox.clear()
    sweep(django_capture_on_commit_callbacks)  # same findings, still open: nothing new
    assert mailoutbox == []
    late = make_community("zaoyuan", households=3000)
    Community.objects.filter(pk=late.pk).update(households=400)
    sweep(django_capture_on_commit_callbacks)
    assert [m.to for m in mailoutbox] == [["zy@lianhu.local"]]
    assert late.code in mailoutbox[0].body


def test_digest_is_sent_once_per_sweep(make_community, clerks, mailoutbox, django_capture_on_commit_callbacks):
    make_community("qingnian", households=500)
    s = sweep(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    assert services.sweep_digest_send(sweep_id=s.pk) == 0  # a redelivered task
    assert len(mailoutbox) == 1


def test_no_email_before_commit(make_community, clerks, mailoutbox, django_capture_on_commit_callbacks):
    make_community("qingnian", households=500)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        s = services.sweep_run(as_of=AS_OF, rule_ids=RULES)
    assert mailoutbox == []
    assert Sweep.objects.get(pk=s.pk).digest_sent_at is None
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1


def test_street_without_clerk_emails_is_skipped(make_community, clerk_qingnian, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    make_community("qingnian", households=500)
    sweep(django_capture_on_commit_callbacks)
    assert mailoutbox == []


def test_a_long_digest_lists_the_first_findings_and_counts_the_rest(make_community, clerks, mailoutbox, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    monkeypatch.setattr(digest, "DIGEST_LIST_MAX", 2)
    for households in (500, 600, 700):
        make_community("qingnian", households=households)
    sweep(django_capture_on_commit_callbacks)
    (mail,) = mailoutbox
    assert mail.subject.endswith("新发现 3 项问题")
    assert mail.body.count("详情：") == 2
    assert "另有 1 项未在邮件中列出" in mail.body
