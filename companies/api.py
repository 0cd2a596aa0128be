"""REST API: the directory of published companies, and the member's own company."""

import hashlib

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import filters, generics, mixins, permissions, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from companies import directory_cache, selectors, services
from companies.filters import CompanyFilter
from companies.models import Company, Listing
from companies.parsers import JSONParser
from companies.serializers import (
    ListingSerializer,
    OwnCompanySerializer,
    PublicCompanySerializer,
    TokenRequestSerializer,
)


class DirectorySearchFilter(filters.SearchFilter):
    """The directory's search (selectors.search_directory, as the page's ?q=): firms found by what the text
    means in any of vi/ru/en and those containing its words, best first. Where the model cannot run, DRF's
    lexical rule over name, city and offers and needs (terms, quoted phrases), indexed and without a join."""

    def filter_queryset(self, request, queryset, view):
        self.get_search_terms(request)  # DRF's validation of the parameter (a NUL character is a 400)
        return selectors.search_directory(queryset, request.query_params.get(self.search_param, ""), lexical="terms")


class DirectoryOrderingFilter(filters.OrderingFilter):
    """An explicit ?ordering= wins; without one, a search keeps its ranking (best first) instead of the
    default name order."""

    def filter_queryset(self, request, queryset, view):
        if not self.get_ordering_fields_param(request) and "search_rank" in queryset.query.annotations:
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_ordering_fields_param(self, request) -> list[str]:
        param = request.query_params.get(self.ordering_param, "")
        return [term.strip() for term in param.split(",") if term.strip()]


COUNT_CACHE_ABOVE = 1000
COUNT_CACHE_SECONDS = 60


class _CountCachedPaginator(Paginator):
    # Counting costs as many rows as match: tens of milliseconds for a broad filter at 100,000 firms, more
    # than the page itself. A large count is kept a minute (in the cache, keyed by the filters and the search)
    # and a small one, cheap, is always exact, so a page's count may lag changes only where it runs into thousands.
    def __init__(self, object_list, per_page, *, count_key: str) -> None:
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        count = cache.get(self.count_key)
        if count is None:
            count = super().count
            if count >= COUNT_CACHE_ABOVE:
                cache.set(self.count_key, count, COUNT_CACHE_SECONDS)
        return count

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # Sliced by the page size, not up to the count: a kept count may be a few firms behind.
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


class DirectoryPagination(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        # Which firms count is decided by the query's parameters (the view's queryset is always the same), the
        # page and the order aside: a key made of them costs nothing, where one made of the SQL cost a compile
        # of the whole query (with a search's thousand ranked ids) on every request.
        params = sorted(
            (name, value)
            for name, values in request.query_params.lists()
            if name not in (self.page_query_param, "ordering")
            for value in values
        )
        self.count_key = "directory-count:" + hashlib.sha256(repr(params).encode()).hexdigest()
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, object_list, per_page) -> _CountCachedPaginator:
        return _CountCachedPaginator(object_list, per_page, count_key=self.count_key)


class CompanyViewSet(viewsets.ReadOnlyModelViewSet):
    """Published company profiles whose firms consented to be shown to the other country (share_profile and
    cross_border), and those of the firms named in the articles; any other firm is a 404. Contact details are
    never part of them."""

    serializer_class = PublicCompanySerializer
    filterset_class = CompanyFilter
    filter_backends = [DjangoFilterBackend, DirectorySearchFilter, DirectoryOrderingFilter]
    pagination_class = DirectoryPagination
    search_fields = ["name", "city", "listings__text"]
    ordering_fields = ["name", "founded", "updated_at"]
    ordering = ["name", "id"]

    def get_queryset(self):
        return selectors.public_directory()

    def list(self, request, *args, **kwargs):
        # Anonymous readers of one address in one language share its page, kept a short while and dropped
        # by any change of what it shows (directory_cache). A signed-in reader's page is never kept nor reused.
        key = None
        if directory_cache.seconds() and not request.user.is_authenticated:
            key = directory_cache.page_key(request.build_absolute_uri())
            data = directory_cache.get(key)
            # A firm hidden since, even by a write that sent no signal (a bulk update), is never served again.
            if data is not None and selectors.all_shown([firm["id"] for firm in data["results"]]):
                return Response(data)
        response = super().list(request, *args, **kwargs)
        if key is not None and response.status_code == 200:
            directory_cache.put(key, response.data)
        return response


def _listing_data(direction: str, validated: dict) -> services.ListingData:
    return services.ListingData(
        direction=direction,
        text=validated["text"],
        kind=validated.get("kind", Listing.Kind.PRODUCT),
        cooperation=validated.get("cooperation", []),
        sector_codes=[sector.code for sector in validated.get("sectors", [])],
    )


class MyCompanyView(generics.GenericAPIView):
    """The signed-in member's own company: register it, read it, change it."""

    serializer_class = OwnCompanySerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_object(self) -> Company:
        company = selectors.company_of(self.request.user)
        if company is None:
            raise Http404("You have not registered a company yet.")
        return company

    def get(self, request):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses={201: OwnCompanySerializer})
    def post(self, request):
        if selectors.company_of(request.user) is not None:
            raise ValidationError({"non_field_errors": ["You already act for a company; change it with PUT or PATCH."]})
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sectors = [sector.code for sector in data.pop("sectors", [])]
        listings = [_listing_data(Listing.Direction.OFFER, x) for x in data.pop("offers", [])]
        listings += [_listing_data(Listing.Direction.NEED, x) for x in data.pop("needs", [])]
        purposes = data.pop("consent_purposes")
        company = services.create_company_for_member(
            user=request.user, fields=data, sector_codes=sectors, listings=listings, consent_purposes=purposes
        )
        return Response(self.get_serializer(company).data, status=status.HTTP_201_CREATED)

    def put(self, request):
        return self._update(request, partial=False)

    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, partial: bool):
        company = self.get_object()
        serializer = self.get_serializer(company, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sectors = data.pop("sectors", None)
        purposes = data.pop("consent_purposes", None)
        with transaction.atomic():
            if purposes is not None:
                services.record_consent(company, purposes)
            services.update_company(
                company,
                fields=data,
                sector_codes=None if sectors is None else [s.code for s in sectors],
                by=request.user,
            )
        return Response(self.get_serializer(company).data)


class SubmitMyCompanyView(APIView):
    """Send the member's company to its chamber for review."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: OwnCompanySerializer})
    def post(self, request):
        company = selectors.company_of(request.user)
        if company is None:
            raise Http404("You have not registered a company yet.")
        try:
            services.submit_for_review(company, by=request.user)
        except services.WorkflowError as error:
            raise ValidationError({"status": [str(error)]}) from None
        return Response(OwnCompanySerializer(company, context={"request": request}).data)


class _MyListingViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ListingSerializer
    permission_classes = [permissions.IsAuthenticated]
    direction: str = ""
    filter_backends = []
    pagination_class = None

    def get_queryset(self):
        company = selectors.company_of(self.request.user)
        if company is None:
            return Listing.objects.none()
        return company.listings.filter(direction=self.direction).prefetch_related("sectors")

    def perform_create(self, serializer):
        company = selectors.company_of(self.request.user)
        if company is None:
            raise Http404("You have not registered a company yet.")
        try:
            serializer.instance = services.add_own_listing(
                company, _listing_data(self.direction, serializer.validated_data)
            )
        except services.ListingLimitError as error:
            raise ValidationError({"text": [str(error)]}) from None

    def perform_destroy(self, instance):
        company = instance.company
        if company.status != Company.Status.DRAFT and company.listings.count() == 1:
            raise ValidationError({"text": ["A submitted profile keeps at least one offer or need."]})
        instance.delete()


class MyOfferViewSet(_MyListingViewSet):
    """What the member's company offers."""

    direction = Listing.Direction.OFFER


class MyNeedViewSet(_MyListingViewSet):
    """What the member's company needs."""

    direction = Listing.Direction.NEED


class ObtainTokenView(ObtainAuthToken):
    """A member's API token for their username and password (field errors for bad input)."""

    serializer_class = TokenRequestSerializer
    # DRF's token view names its own parsers; the JSON one must be the project's (deep nesting is a 400).
    parser_classes = [FormParser, MultiPartParser, JSONParser]
