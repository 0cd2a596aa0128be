from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from companies import selectors as company_selectors
from companies.models import Company
from companies.serializers import PublicCompanySerializer, public_company_data, public_company_data_from
from matchmaking.explain import explain
from matchmaking.models import MEMBER_OUTCOMES, MEMBER_VISIBLE_STATUSES, Match

MEMBER_STATUS_CHOICES = [(status.value, status.label) for status in MEMBER_VISIBLE_STATUSES]


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["contact_name", "contact_email", "contact_phone"]


class ReasonSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("need_met, offer_wanted, sectors, cooperation or language."))
    data = serializers.DictField(help_text=_("The facts: quoted texts, similarity, codes in common."))


class _MyMatchListSerializer(serializers.ListSerializer):
    def to_representation(self, data) -> list[dict]:
        # The other firms' public profiles for the whole page in two queries (and none for the member's own).
        matches = list(data.all() if hasattr(data, "all") else data)
        company = self.context["company"]
        # Read with the page (selectors.member_matches_with_counterparts): nothing more to fetch.
        others = {match.counterpart_of(company).pk for match in matches if not hasattr(match, "profile_listings")}
        profiles = company_selectors.with_public_profile(Company.objects.filter(pk__in=others))
        self.context["profiles"] = {profile.pk: profile for profile in profiles} if others else {}
        return super().to_representation(matches)


class MyMatchSerializer(serializers.ModelSerializer):
    """One of the firm's introductions, seen from the firm's own side."""

    # Context: "company" (the member's company) and optionally "sector_names" (a code → name mapping shared
    # by the page, so sector names are not fetched once per match) and "profiles" (the other firms by pk, as
    # selectors.with_public_profile reads them; a page of matches fetches them itself).

    status = serializers.ChoiceField(choices=MEMBER_STATUS_CHOICES, read_only=True)
    counterpart = serializers.SerializerMethodField()
    my_answer = serializers.SerializerMethodField()
    their_answer = serializers.SerializerMethodField()
    my_outcome = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    counterpart_contact = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = [
            "id",
            "counterpart",
            "score",
            "status",
            "my_answer",
            "their_answer",
            "my_outcome",
            "explanation",
            "reasons",
            "counterpart_contact",
            "introduced_at",
            "connected_at",
        ]
        read_only_fields = fields
        list_serializer_class = _MyMatchListSerializer

    def _side(self, match: Match) -> str:
        return match.side_of(self.context["company"])

    def to_representation(self, match: Match) -> dict:
        # Built directly, in Meta.fields' order, rather than through a field object per value: a page of twenty
        # introductions is read by every member on every visit, and DRF's generic path (which gives the same
        # output, tests/test_api_speed_paths.py) cost most of its time.
        side = self._side(match)
        return {
            "id": match.id,
            "counterpart": self.get_counterpart(match),
            "score": None if match.score is None else float(match.score),
            "status": match.status,
            "my_answer": match.response_vn if side == "vn" else match.response_ru,
            "their_answer": match.response_ru if side == "vn" else match.response_vn,
            "my_outcome": match.outcome_vn if side == "vn" else match.outcome_ru,
            "explanation": explain(match, side, sector_names=self.context.get("sector_names")),
            "reasons": match.reasons,
            "counterpart_contact": self.get_counterpart_contact(match),
            "introduced_at": _moment(match.introduced_at),
            "connected_at": _moment(match.connected_at),
        }

    @extend_schema_field(PublicCompanySerializer)
    def get_counterpart(self, match: Match) -> dict:
        counterpart = match.counterpart_of(self.context["company"])
        if hasattr(match, "profile_listings"):  # read with the match (selectors.member_matches_with_counterparts)
            return public_company_data_from(
                counterpart,
                sectors=match.profile_sectors,
                listings=match.profile_listings,
                chamber=match.counterpart_chamber,
            )
        profile = self.context.get("profiles", {}).get(counterpart.pk)
        if profile is None:  # a match read alone: its one profile, in two queries too
            profile = company_selectors.with_public_profile(Company.objects.filter(pk=counterpart.pk)).get()
        return public_company_data(profile)

    @extend_schema_field(serializers.ChoiceField(choices=Match.Response.choices))
    def get_my_answer(self, match: Match) -> str:
        return getattr(match, f"response_{self._side(match)}")

    @extend_schema_field(serializers.ChoiceField(choices=Match.Response.choices))
    def get_their_answer(self, match: Match) -> str:
        return match.response_ru if self._side(match) == "vn" else match.response_vn

    @extend_schema_field(serializers.ChoiceField(choices=Match.Outcome.choices))
    def get_my_outcome(self, match: Match) -> str:
        return getattr(match, f"outcome_{self._side(match)}")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_explanation(self, match: Match) -> list[str]:
        return explain(match, self._side(match), sector_names=self.context.get("sector_names"))

    @extend_schema_field(ReasonSerializer(many=True, help_text=_("As stored: from the Vietnamese firm's side.")))
    def get_reasons(self, match: Match) -> list[dict]:
        return match.reasons

    @extend_schema_field(ContactSerializer(allow_null=True, help_text=_("Only once both firms accepted.")))
    def get_counterpart_contact(self, match: Match) -> dict | None:
        # Contact details are what the firms agree to exchange by both accepting; never before.
        if match.status != Match.Status.CONNECTED:
            return None
        return ContactSerializer(match.counterpart_of(self.context["company"])).data


_MOMENT = serializers.DateTimeField(read_only=True)  # the model field's representation (ISO 8601, current zone)


def _moment(value) -> str | None:
    return None if value is None else _MOMENT.to_representation(value)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=[(o.value, o.label) for o in MEMBER_OUTCOMES])
