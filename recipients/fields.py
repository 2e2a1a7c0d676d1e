"""Form fields the registry's data needs everywhere: the township filter of a list, and a new bank account entered
twice, never shown back in full."""

from django import forms

from .idnumber import AccountError, mask_bank_account, parse_bank_account
from .models import Township


class TownshipFilter(forms.Form):
    """Mixed into a list's filter form: a township choice for county staff; a township clerk has none (the list is
    theirs already)."""

    township = forms.ModelChoiceField(
        label="乡镇（街道）", required=False, queryset=Township.objects.none(), empty_label="全部乡镇"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.township_scoped:
            del self.fields["township"]
        else:
            field = self.fields["township"]
            field.queryset = Township.objects.visible_to(user).select_related("county")
            if user.prefecture_wide:  # township names repeat across counties
                field.label_from_instance = lambda t: f"{t.county.name} · {t.name}"


class NewAccountFields(forms.Form):
    """Mixed into a form: `new_account` and `new_account_again`; `cleaned_data["new_account"]` is the checked
    digits, or "" when left empty and `required` is False (the stored account is kept)."""

    new_account = forms.CharField(
        label="新银行账号",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="12 至 30 位数字；留空表示不修改",
    )
    new_account_again = forms.CharField(
        label="再次输入新银行账号",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    account_required = False

    def set_current_account(self, account: str) -> None:
        """Say which account is on file (masked), as the help text of the new one."""
        shown = mask_bank_account(account) if account else "（无）"
        required = "必填" if self.account_required else "留空表示不修改"
        self.fields["new_account"].help_text = f"当前账号 {shown}；12 至 30 位数字，{required}"

    def clean(self):
        data = super().clean()
        first, again = data.get("new_account") or "", data.get("new_account_again") or ""
        if not first and not again:
            if self.account_required:
                self.add_error("new_account", "请输入银行账号")
            data["new_account"] = ""
            return data
        try:
            account = parse_bank_account(first)
        except AccountError as exc:
            self.add_error("new_account", str(exc))
            return data
        try:
            repeated = parse_bank_account(again)
        except AccountError:
            repeated = None
        if repeated != account:
            self.add_error("new_account_again", "两次输入的银行账号不一致，请核对")
            return data
        data["new_account"] = account
        return data
