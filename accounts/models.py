from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models

from .roles import PREFECTURE_ROLES, STAFF_ROLES, TOWNSHIP_ROLES, Role


class User(AbstractUser):
    """A portal user. The role decides permissions (through its group) and the home page."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    township = models.ForeignKey(
        "recipients.Township",
        verbose_name="所属乡镇（街道）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="乡镇窗口经办必须指定所属乡镇；县级角色留空。",
    )
    county = models.ForeignKey(
        "recipients.County",
        verbose_name="所属县（区）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="县级角色必须指定所属县；乡镇窗口经办取所属乡镇的县；市级角色留空（看全部县）。",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="clerk_has_township",
                condition=~models.Q(role="clerk") | models.Q(township__isnull=False),
                violation_error_message="乡镇窗口经办必须指定所属乡镇。",
            ),
        ]

    def __str__(self):
        return f"{self.display_name}（{self.get_role_display()}）" if self.role else self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def township_scoped(self) -> bool:
        """True when the user may only see one township's people and cases."""
        return self.role in TOWNSHIP_ROLES and not self.is_superuser

    @property
    def prefecture_wide(self) -> bool:
        """True when the user sees every county of the instance (the prefecture roles, a superuser)."""
        return self.is_superuser or self.role in PREFECTURE_ROLES

    @property
    def scope_county_id(self) -> int | None:
        """The one county the user works in; None for the prefecture roles and for a county role not yet
        given its county (who then sees no county's data)."""
        if self.prefecture_wide:
            return None
        return self.county_id

    def clean(self):
        super().clean()
        if self.role and self.role not in TOWNSHIP_ROLES | PREFECTURE_ROLES and self.county_id is None:
            raise ValidationError({"county": "县级角色必须指定所属县（区）。"})

    def save(self, *args, **kwargs):
        # Only the admin role uses the Django admin; a demoted admin loses it with the role.
        self.is_staff = self.role in STAFF_ROLES or self.is_superuser
        if self.role not in TOWNSHIP_ROLES:
            self.township = None
        elif self.township_id is not None:
            self.county_id = self.township.county_id  # a clerk's county is their township's
        if self.role in PREFECTURE_ROLES:
            self.county = None
        super().save(*args, **kwargs)
        self.sync_role_group()

    def sync_role_group(self):
        """Keep the user in exactly one role group, the one named after their role."""
        role_groups = Group.objects.filter(name__in=Role.labels)
        self.groups.remove(*role_groups.exclude(name=self.get_role_display()))
        if self.role:
            group = role_groups.filter(name=self.get_role_display()).first()
            if group is not None:
                self.groups.add(group)
