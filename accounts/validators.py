"""Password rules beyond Django's own (settings.AUTH_PASSWORD_VALIDATORS)."""

from django.core.exceptions import ValidationError


class NotContainingUserNameValidator:
    """A password may not contain the user's login name or full name (clerk12345 for clerk): Django's similarity
    check lets such passwords through when the rest of the password is long enough."""

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.lower()
        for attribute, label in (("username", "用户名"), ("full_name", "姓名")):
            value = (getattr(user, attribute, "") or "").strip().lower()
            if len(value) >= 2 and value in lowered:
                raise ValidationError(f"密码不能包含{label}。", code="password_contains_user_name")

    def get_help_text(self):
        return "密码不能包含用户名或姓名。"
