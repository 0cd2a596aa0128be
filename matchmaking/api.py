"""REST API: the signed-in member's introductions, and the firm's answers to them."""

import django_filters
from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from companies import selectors as company_selectors
from companies.models import Company
from matchmaking import selectors, services
from matchmaking.models import MEMBER_VISIBLE_STATUSES, Match
from matchmaking.serializers import MEMBER_STATUS_CHOICES, MyMatchSerializer, OutcomeSerializer

# What MyMatchSerializer reads of a match and of its two firms (either may be the other firm).
_SHOWN_FIRM_FIELDS = ["name", "country", "city", "activity_code", "activity_division_id", "size", "founded"]
_SHOWN_FIRM_FIELDS += ["languages", "website", "contact_name", "contact_email", "contact_phone"]
SHOWN_MATCH_FIELDS = [
    *("id", "company_vn", "company_ru", "score", "status", "reasons", "introduced_at", "connected_at"),
    *(f"{kind}_{side}" for kind in ("response", "outcome") for side in ("vn", "ru")),
    *(f"{firm}__{field}" for firm in ("company_vn", "company_ru") for field in _SHOWN_FIRM_FIELDS),
]


class MyMatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MEMBER_STATUS_CHOICES)

    class Meta:
        model = Match
        fields = ["status"]


class _CountWithRowsPaginator(Paginator):
    # The first page's rows carry the number of all rows (COUNT(*) OVER ()), so it costs one query instead of a
    # count and a page. Other pages count first, as Paginator does (a page number past the last must not reach
    # PostgreSQL as an offset), and so does a first page without rows.
    def page(self, number) -> Page:
        if str(number) != "1":
            return super().page(number)
        rows = list(self.object_list.annotate(rows_in_all=Window(Count("pk")))[: self.per_page])
        if rows:
            self.__dict__["count"] = rows[0].rows_in_all  # Paginator.count is a cached property
        return self._get_page(rows, self.validate_number(number), self)


class MyMatchPagination(PageNumberPagination):
    django_paginator_class = _CountWithRowsPaginator


class MyMatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Firms the chamber introduced to the member's company, best first. Contact details of the other firm
    appear once both firms accepted the introduction."""

    serializer_class = MyMatchSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_class = MyMatchFilter
    pagination_class = MyMatchPagination

    def _company(self) -> Company | None:
        if not hasattr(self, "_member_company"):
            self._member_company = company_selectors.company_of(self.request.user)
        return self._member_company

    def get_queryset(self):
        company = self._company()
        if company is None:
            return Match.objects.none()
        # With the other firms' public profiles, which MyMatchSerializer shows, in the same query.
        matches = selectors.member_matches_with_counterparts(company, MEMBER_VISIBLE_STATUSES)
        if self.action == "list":  # read only, so only what the page shows (an answer saves the whole match)
            matches = matches.only(*SHOWN_MATCH_FIELDS)
        return matches

    def get_serializer_context(self):
        sectors = company_selectors.sectors_by_code()
        return {
            **super().get_serializer_context(),
            "company": self._company(),
            "sector_names": {code: sector.name for code, sector in sectors.items()},
        }

    def _answer(self, request: Request, change) -> Response:
        match = self.get_object()
        try:
            change(match, self._company())
        except services.MatchWorkflowError as error:
            raise ValidationError({"status": [str(error)]}) from None
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: MyMatchSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        """Accept the introduction; when the other firm accepted too, both see each other's contact."""
        return self._answer(request, lambda match, company: services.respond(match, company, True, by=request.user))

    @extend_schema(request=None, responses={200: MyMatchSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk=None) -> Response:
        """Decline the introduction; the other firm never sees the member's contact."""
        return self._answer(request, lambda match, company: services.respond(match, company, False, by=request.user))

    @extend_schema(request=OutcomeSerializer, responses={200: MyMatchSerializer})
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, pk=None) -> Response:
        """Tell the chamber what came of a connection: met, agreement or no reply."""
        match = self.get_object()
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.record_outcome(match, self._company(), serializer.validated_data["outcome"], by=request.user)
        except services.MatchWorkflowError as error:
            raise ValidationError({"outcome": [str(error)]}) from None
        return Response(self.get_serializer(self.get_object()).data)
