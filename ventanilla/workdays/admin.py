from django.contrib import admin

from .models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Read-only here: the calendar is edited at /gestion/calendario/, whose services move
    the deadlines of open cases and audit the change; a save here would do neither."""

    list_display = ["date", "name", "is_working_day", "source"]
    list_filter = ["source", "is_working_day"]
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
