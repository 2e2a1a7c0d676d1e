from django import template

from applications.policy_engine import yuan

register = template.Library()

register.filter("yuan", yuan)
