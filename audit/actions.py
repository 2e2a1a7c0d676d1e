"""Names of audited actions, with the Chinese label shown in the audit log."""

ACTION_LABELS = {
    "auth.login": "登录",
    "auth.logout": "退出登录",
    "auth.login_failed": "登录失败",
    "recipient.pii_view": "查看完整个人信息",
    "roster_import.upload": "上传名册",
    "roster_import.validate": "校验名册",
    "roster_import.confirm": "确认导入",
    "roster_import.apply": "导入名册",
    "roster_import.cancel": "取消导入",
    "policy.load_preset": "安装政策预置方案",
    "policy.activate": "政策生效",
    "policy.copy": "复制政策为草稿",
    "policy.edit": "修改政策草稿",
    "admin.add": "后台新增",
    "admin.change": "后台修改",
    "admin.delete": "后台删除",
}
