"""The community's one-page 档案 for paper."""

import pytest
from django.urls import reverse

from communities.models import Community

from .test_views import _make_communities

pytestmark = pytest.mark.django_db


def test_dossier_shows_figures_panels_and_signature_lines(client, streets, clerk_qingnian):
    _make_communities(streets["qingnian"], 1)
    community = Community.objects.get()
    client.force_login(clerk_qingnian)
    response = client.get(reverse("communities:community_print", args=[community.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "社区基本情况档案" in html and community.name in html and community.code in html
    assert 'id="compliance-panel"' in html and 'id="facility-requirements"' in html
    assert "填报单位（盖章）" in html and "css/print.css" in html and 'class="site-nav' not in html
    detail = client.get(reverse("communities:community_detail", args=[community.pk])).content.decode()
    assert reverse("communities:community_print", args=[community.pk]) in detail


def test_another_streets_community_is_404(client, streets, clerk_zaoyuan):
    _make_communities(streets["qingnian"], 1)
    client.force_login(clerk_zaoyuan)
    assert client.get(reverse("communities:community_print", args=[Community.objects.get().pk])).status_code == 404
