from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from companies import selectors
from companies.classification import ActivityCodeError, division_of
from companies.models import (
    LISTINGS_PER_DIRECTION_MAX,
    Company,
    ConsentPurpose,
    CooperationForm,
    Language,
    Listing,
    Organisation,
    Sector,
    required_purposes,
)
from companies.services import chamber_problem
from companies.validators import multi_line_text, one_line_text, validate_website, website_to_uri


class DivisionField(serializers.SlugRelatedField):
    """An ISIC Rev.4 division given by its 2-digit code."""

    default_error_messages = {
        "does_not_exist": _("Unknown sector {value}: give an ISIC Rev.4 division code such as 21."),
        "invalid": _("A sector is a 2-digit ISIC Rev.4 division code, such as 21."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Sector.objects.filter(level=Sector.Level.DIVISION))
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        # Check the shape before querying: PostgreSQL refuses text with a NUL byte with an error, not a miss.
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)  # 21 was accepted as "21" before this check; keep it so
        if not isinstance(data, str) or len(data) != 2 or not data.isascii() or not data.isdigit():
            self.fail("invalid")
        return super().to_internal_value(data)


def check_activity_code(attrs: dict, instance: Company | None = None) -> None:
    """Raise a field-level error when the activity code does not fit the company's country."""
    country = attrs.get("country", getattr(instance, "country", None))
    code = attrs.get("activity_code", getattr(instance, "activity_code", ""))
    if code:
        try:
            division_of(code, country)
        except ActivityCodeError as error:
            raise serializers.ValidationError({"activity_code": [str(error)]}) from None


class WebsiteField(serializers.URLField):
    """A firm's website: an http(s) address, kept as a URI (an international domain name in its ASCII form),
    which is what the schema's format "uri" promises to clients."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.append(validate_website)

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        one_line_text(value)  # before encoding, which would turn a control character into a harmless-looking %01
        return website_to_uri(value)


class SectorSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Sector
        fields = ["code", "name"]


class ListingSerializer(serializers.ModelSerializer):
    text = serializers.CharField(
        max_length=settings.LISTING_TEXT_MAX_LENGTH,
        trim_whitespace=True,
        validators=[multi_line_text],
        help_text=_("In Vietnamese, Russian or English; at most %(n)d characters.")
        % {"n": settings.LISTING_TEXT_MAX_LENGTH},
    )
    cooperation = serializers.ListField(
        child=serializers.ChoiceField(CooperationForm.choices), required=False, max_length=9
    )
    sectors = DivisionField(many=True, required=False)

    class Meta:
        model = Listing
        fields = ["id", "kind", "text", "language", "cooperation", "sectors"]
        read_only_fields = ["id", "language"]

    def validate_cooperation(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def _public_sectors(company: Company, codes: list[str] | None = None) -> list[Sector]:
    # A company that named no sector is in the division of its activity code.
    if codes is None:
        codes = getattr(company, "sector_codes", None)  # from selectors.with_public_profile
    if codes is None:
        return list(company.sectors.all()) or ([company.activity_division] if company.activity_division_id else [])
    codes = codes or ([company.activity_division_id] if company.activity_division_id else [])
    sectors = selectors.sectors_by_code()
    if not sectors.keys() >= set(codes):  # a sector newer than this process's copy of the table
        selectors.forget_sectors()
        sectors = selectors.sectors_by_code()
    return [sectors[code] for code in codes if code in sectors]


def public_listing_data(listing: Listing) -> dict:
    """ListingSerializer's representation of a listing, without building its fields for every listing."""
    codes = getattr(listing, "sector_codes", None)  # from selectors.with_public_profile
    return {
        "id": listing.id,
        "kind": listing.kind,
        "text": listing.text,
        "language": listing.language,
        "cooperation": list(listing.cooperation),
        "sectors": list(codes) if codes is not None else [sector.code for sector in listing.sectors.all()],
    }


def _public_listings(company: Company, direction: str) -> list[dict]:
    return [public_listing_data(x) for x in company.listings.all() if x.direction == direction]


class PublicCompanySerializer(serializers.ModelSerializer):
    """What anyone may see of a published company: never its contact details.

    Read-only, and read on every page of the directory and of introductions: to_representation builds the
    dictionary directly instead of through a field object per value (DRF's generic path, which gives the
    same output, is several times slower per firm). Fields below still describe it for the schema."""

    sectors = serializers.SerializerMethodField()
    offers = serializers.SerializerMethodField()
    needs = serializers.SerializerMethodField()
    # Published firms imported without a chamber, or named in the articles, have none.
    chamber = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "country",
            "city",
            "activity_code",
            "sectors",
            "size",
            "founded",
            "languages",
            "website",
            "chamber",
            "offers",
            "needs",
        ]

    def to_representation(self, company: Company) -> dict:
        return public_company_data(company)

    @extend_schema_field(SectorSerializer(many=True))
    def get_sectors(self, company: Company) -> list[dict]:
        return [{"code": sector.code, "name": sector.name} for sector in _public_sectors(company)]

    @extend_schema_field(ListingSerializer(many=True))
    def get_offers(self, company: Company) -> list[dict]:
        return _public_listings(company, Listing.Direction.OFFER)

    @extend_schema_field(ListingSerializer(many=True))
    def get_needs(self, company: Company) -> list[dict]:
        return _public_listings(company, Listing.Direction.NEED)


def public_company_data(company: Company) -> dict:
    """PublicCompanySerializer's representation of a company; with_public_profile() fetches what it reads."""
    return _public_data(
        company,
        sectors=_public_sectors(company),
        chamber=company.chamber.slug if company.chamber_id else None,
        offers=_public_listings(company, Listing.Direction.OFFER),
        needs=_public_listings(company, Listing.Direction.NEED),
    )


def public_company_data_from(
    company: Company, *, sectors: list[str], listings: list[dict], chamber: str | None
) -> dict:
    """public_company_data of a firm whose profile was read beside other rows (selectors.public_profile_annotations):
    its own fields from ``company``, its sector codes, its listings as JSON objects and its chamber's slug."""
    # A JSON object's keys come back in no set order: each listing is rebuilt in public_listing_data's.
    offers, needs = [], []
    for listing in listings:
        (offers if listing["direction"] == Listing.Direction.OFFER else needs).append(
            {key: listing[key] for key in ("id", "kind", "text", "language", "cooperation", "sectors")}
        )
    return _public_data(company, sectors=_public_sectors(company, sectors), chamber=chamber, offers=offers, needs=needs)


def _public_data(company: Company, *, sectors: list[Sector], chamber: str | None, offers: list, needs: list) -> dict:
    return {
        "id": company.id,
        "name": company.name,
        "country": company.country,
        "city": company.city,
        "activity_code": company.activity_code,
        "sectors": [{"code": sector.code, "name": sector.name} for sector in sectors],
        "size": company.size,
        "founded": company.founded,
        "languages": list(company.languages),
        "website": company.website,
        "chamber": chamber,
        "offers": offers,
        "needs": needs,
    }


class OwnCompanySerializer(serializers.ModelSerializer):
    """The member's own company, contact details included. Offers and needs are written on creation here
    and afterwards through their own endpoints."""

    sectors = DivisionField(many=True, required=False)
    languages = serializers.ListField(child=serializers.ChoiceField(Language.choices), required=False, max_length=3)
    chamber = serializers.SlugRelatedField(
        slug_field="slug", queryset=Organisation.objects.filter(vets_companies=True), required=False, allow_null=True
    )
    founded = serializers.IntegerField(min_value=1800, max_value=2100, required=False, allow_null=True)
    website = WebsiteField(required=False, allow_blank=True, max_length=200)
    offers = ListingSerializer(many=True, required=False, max_length=LISTINGS_PER_DIRECTION_MAX)
    needs = ListingSerializer(many=True, required=False, max_length=LISTINGS_PER_DIRECTION_MAX)
    consent_purposes = serializers.ListField(
        child=serializers.ChoiceField(ConsentPurpose.choices),
        required=False,
        min_length=1,
        help_text=_(
            "Purposes the firm consents to, each given separately. A new profile needs matching, share_profile "
            "and cross_border; afterwards share_profile and cross_border may be withdrawn (the firm leaves "
            "the directory) while matching stays, until the account is deleted."
        ),
    )

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "country",
            "city",
            "activity_code",
            "activity_division",
            "sectors",
            "size",
            "founded",
            "languages",
            "website",
            "contact_name",
            "contact_email",
            "contact_phone",
            "chamber",
            "status",
            "consent_purposes",
            "consent_version",
            "consent_given_at",
            "offers",
            "needs",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "activity_division",
            "status",
            "consent_version",
            "consent_given_at",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "activity_code": {"required": True, "allow_blank": False},
            **{
                name: {"validators": [one_line_text]}
                for name in ("name", "city", "contact_name", "contact_email", "contact_phone")
            },
        }

    def validate_languages(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def to_representation(self, company: Company) -> dict:
        data = super().to_representation(company)
        listings = list(company.listings.all())
        for key, direction in (("offers", Listing.Direction.OFFER), ("needs", Listing.Direction.NEED)):
            data[key] = ListingSerializer([x for x in listings if x.direction == direction], many=True).data
        return data

    def validate_consent_purposes(self, value: list[str]) -> list[str]:
        # The profile form's rule (companies.models.required_purposes): all three to join, matching afterwards.
        if ConsentPurpose.MATCHING not in value:
            raise serializers.ValidationError(_("Consent to matching is needed: the service does nothing else."))
        missing = [purpose for purpose in required_purposes(joining=self.instance is None) if purpose not in value]
        if missing:
            raise serializers.ValidationError(
                _("A new profile needs consent to each of these purposes: %(purposes)s.")
                % {"purposes": ", ".join(missing)}
            )
        return sorted(set(value))

    def validate(self, attrs: dict) -> dict:
        check_activity_code(attrs, self.instance)
        if "chamber" in attrs or "country" in attrs:
            problem = chamber_problem(
                self.instance,
                country=attrs.get("country", getattr(self.instance, "country", None)),
                chamber=attrs.get("chamber", getattr(self.instance, "chamber", None)),
            )
            if problem:
                raise serializers.ValidationError({"chamber": [problem]})
        if self.instance is None:
            if not attrs.get("offers") and not attrs.get("needs"):
                raise serializers.ValidationError(
                    {
                        "offers": [_("A profile needs at least one offer or one need.")],
                        "needs": [_("A profile needs at least one offer or one need.")],
                    }
                )
            if not attrs.get("consent_purposes"):
                raise serializers.ValidationError({"consent_purposes": [_("This field is required.")]})
        elif "offers" in attrs or "needs" in attrs:
            message = _("Change offers and needs through their own endpoints.")
            raise serializers.ValidationError({key: [message] for key in ("offers", "needs") if key in attrs})
        return attrs


class TokenRequestSerializer(AuthTokenSerializer):
    """DRF's token request, with the username's length checked first: the login audit (django-axes) stores
    a refused username in a column of 255 characters, and a longer one failed there with a server error."""

    username = serializers.CharField(label=_("Username"), write_only=True, max_length=150)
    password = serializers.CharField(
        label=_("Password"),
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
        max_length=4096,
    )
