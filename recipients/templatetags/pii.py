from django import template

from recipients.idnumber import mask_bank_account, mask_id_number, mask_phone

register = template.Library()

register.filter("mask_id", mask_id_number)
register.filter("mask_phone", mask_phone)
register.filter("mask_account", mask_bank_account)
