from django.contrib.auth import views as auth_views
from django.urls import path

from companies import account_views, directory_views, privacy_views, profile_views, views

urlpatterns = [
    # Public pages
    path("directory/", directory_views.directory, name="directory"),
    path("directory/<int:pk>/", directory_views.company_detail, name="directory-company"),
    # Accounts
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/signup/sent/", account_views.signup_sent, name="signup-sent"),
    path("accounts/verify/<uidb64>/<token>/", account_views.VerifyEmailView.as_view(), name="verify-email"),
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # The member's own firm
    path("my/profile/", profile_views.edit_profile, name="my-profile"),
    path("my/profile/submit/", profile_views.submit_profile, name="my-profile-submit"),
    path("my/preferences/", privacy_views.my_preferences, name="my-preferences"),
    path("my/data.json", privacy_views.export_my_data, name="my-data-export"),
    path("my/delete/", privacy_views.delete_my_account, name="my-delete"),
    # Links in emails (signed tokens, no login)
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("email/preferences/<str:token>/", views.preferences, name="email-preferences"),
    path("claim/<str:token>/", views.claim_profile, name="claim-profile"),
    path("claim-done/", views.claim_done, name="claim-done"),
]
