"""Sign-up with email verification, sign-in, password reset: Django's auth views with the site's templates.

The email address is the username. A new account stays inactive until its owner opens the link mailed to
them, so nobody can register a firm with someone else's address.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.core import signing
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django_ratelimit.decorators import ratelimit

from companies.forms import SignUpForm

VERIFY_SALT = "sme-match.verify-email"
# Per client address: enough for a person who mistypes, too few for a script.
SIGNUP_RATE = "5/h"
SIGNIN_RATE = "20/h"
RESET_RATE = "5/h"


def _send_verification(request: HttpRequest, user) -> None:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=VERIFY_SALT)
    link = request.build_absolute_uri(reverse("verify-email", args=[token]))
    context = {"link": link, "days": settings.EMAIL_VERIFICATION_MAX_AGE_DAYS}
    send_mail(
        _("SME Match · confirm your email address"),
        render_to_string("registration/verify_email.txt", context),
        None, [user.email],
    )


@ratelimit(key="ip", rate=SIGNUP_RATE, method="POST", block=True)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("my-profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        User = get_user_model()
        email = form.cleaned_data["email"]
        user = User.objects.filter(username__iexact=email, is_active=False).first()
        if user is None:  # the form refused active accounts already; an inactive one just gets a new link
            user = User(username=email, email=email, is_active=False)
        user.set_password(form.cleaned_data["password1"])
        user.save()
        _send_verification(request, user)
        request.session["signup_email"] = email
        return redirect("signup-sent")
    return render(request, "registration/signup.html", {"form": form})


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/signup_sent.html", {"email": request.session.get("signup_email", "")})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=settings.EMAIL_VERIFICATION_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        raise Http404(_("This link is not valid or has expired. Sign up again to get a new one.")) from None
    user = get_user_model().objects.filter(pk=data.get("user"), email__iexact=data.get("email", "")).first()
    if user is None:
        raise Http404(_("This link is not valid or has expired. Sign up again to get a new one."))
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Your email address is confirmed. Now tell us about your firm."))
    return redirect("my-profile")


@method_decorator(ratelimit(key="ip", rate=SIGNIN_RATE, method="POST", block=True), name="post")
class SignInView(auth_views.LoginView):
    """Failed sign-ins also count towards django-axes' lock-out, as in the admin."""

    template_name = "registration/login.html"


@method_decorator(ratelimit(key="ip", rate=RESET_RATE, method="POST", block=True), name="post")
class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        # The reset email goes out in the language the page was read in.
        self.extra_email_context = {"language": translation.get_language()}
        return super().form_valid(form)
