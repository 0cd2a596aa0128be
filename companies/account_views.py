"""Sign-up with email verification, sign-in, password reset: Django's auth views with the site's templates.

The email address is the username. Sign-up asks only for the address: a new account stays inactive, with no
password, until someone opens the link mailed to it and chooses the password there. So a sign-up never sets or
changes an account's password, and nobody can register a firm with someone else's address. The link dies once
used, as Django's password-reset links do. A sign-up with the address of an active account mails its owner
instead, and the page answers alike either way: it does not tell who has an account.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from companies.forms import SignUpForm
from companies.services import awaits_verification

# Per client address (config/proxies.py, behind TRUSTED_PROXY_COUNT proxies): enough for a person who mistypes,
# too few for a script. Sign-up is also limited per typed address, so nobody floods one mailbox from many hosts.
SIGNUP_RATE = "5/h"
SIGNIN_RATE = "20/h"
RESET_RATE = "5/h"


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """The token of a sign-up link. It hashes the account's password, last login and activity (Django's reset
    token hashes the first two), so it dies once the account is activated, given a password (by the link, a reset
    or staff) or logged into, and it expires after EMAIL_VERIFICATION_MAX_AGE_DAYS."""

    key_salt = "sme-match.verify-email"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"

    def check_token(self, user, token: str | None) -> bool:
        # Django's check_token would expire it after PASSWORD_RESET_TIMEOUT; a sign-up link has its own age.
        if not (user and token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        if self._num_seconds(self._now()) - issued > settings.EMAIL_VERIFICATION_MAX_AGE_DAYS * 86400:
            return False
        return any(
            constant_time_compare(self._make_token_with_timestamp(user, issued, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        )


email_verification_token = EmailVerificationTokenGenerator()


def _account_for(email: str):
    User = get_user_model()
    user = User.objects.filter(username__iexact=email).first()
    if user is None:
        # No usable password: the holder of the link chooses it.
        user, _created = User.objects.get_or_create(
            username=email,
            defaults={"email": email, "is_active": False, "password": make_password(None)},
        )
    return user


def _send_verification(request: HttpRequest, user) -> None:
    link = request.build_absolute_uri(
        reverse(
            "verify-email",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": email_verification_token.make_token(user),
            },
        )
    )
    context = {"link": link, "days": settings.EMAIL_VERIFICATION_MAX_AGE_DAYS}
    send_mail(
        _("SME Match · confirm your email address"),
        render_to_string("registration/verify_email.txt", context),
        None,
        [user.email or user.username],
    )


def _send_sign_up_notice(request: HttpRequest, user) -> None:
    """Tell the owner of an active account that someone signed up with its address (in the page's language)."""
    context = {
        "login_link": request.build_absolute_uri(reverse("login")),
        "reset_link": request.build_absolute_uri(reverse("password_reset")),
    }
    send_mail(
        _("SME Match · someone tried to sign up with your address"),
        render_to_string("registration/signup_existing_email.txt", context),
        None,
        [user.email or user.username],
    )


def _typed_address(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


@ratelimit(key="ip", rate=SIGNUP_RATE, method="POST", block=True)
@ratelimit(key=_typed_address, rate=SIGNUP_RATE, method="POST", block=True)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("my-profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        user = _account_for(email)
        if user.is_active:
            _send_sign_up_notice(request, user)
        elif awaits_verification(user):  # a new link; the account itself stays as it is
            _send_verification(request, user)
        # A deactivated account gets nothing. The page is the same in every case.
        request.session["signup_email"] = email
        return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form})


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_sent.html", {"email": request.session.get("signup_email", "")})


class VerifyEmailView(auth_views.PasswordResetConfirmView):
    """The sign-up link: its holder chooses the password, which activates the account and logs it in.

    Django's password-reset page does the work (it moves the token from the address bar into the session); the
    token dies with the change it makes. A used, expired or forged link gets a 404 page that says to log in.
    """

    token_generator = email_verification_token
    template_name = "registration/verify_email.html"
    reset_url_token = "choose-password"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("my-profile")

    def get_user(self, uidb64: str):
        user = super().get_user(uidb64)
        # Never an account in use or a staff account, whatever the token says.
        return user if user is not None and awaits_verification(user) else None

    def form_valid(self, form):
        form.user.is_active = True  # saved with the password
        response = super().form_valid(form)
        messages.success(self.request, _("Your email address is confirmed. Now tell us about your firm."))
        return response

    def render_to_response(self, context, **response_kwargs):
        if not self.validlink:
            response_kwargs["status"] = 404
        return super().render_to_response(context, **response_kwargs)


@method_decorator(ratelimit(key="ip", rate=SIGNIN_RATE, method="POST", block=True), name="post")
class SignInView(auth_views.LoginView):
    """Failed sign-ins also count towards django-axes' lock-out (per username and client address), as in the
    admin."""

    template_name = "registration/login.html"


@method_decorator(ratelimit(key="ip", rate=RESET_RATE, method="POST", block=True), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        # The reset email goes out in the language the page was read in.
        self.extra_email_context = {"language": translation.get_language()}
        return super().form_valid(form)
