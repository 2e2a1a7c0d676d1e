from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    username = forms.CharField(label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)

    error_messages = {
        "invalid_login": "用户名或密码错误。连续多次输错，账号将被暂时锁定。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }


class BootstrapFormMixin:
    """Gives plain form widgets Bootstrap's classes, for forms rendered field by field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()
