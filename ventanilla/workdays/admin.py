from django.contrib import admin

from .models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_working_day", "source"]
    list_filter = ["source", "is_working_day"]
    date_hierarchy = "date"
