from django.contrib import admin

from .models import ContactDataChange, InsuredPerson


class ContactDataChangeInline(admin.TabularInline):
    model = ContactDataChange
    extra = 0
    can_delete = False
    readonly_fields = ["field", "old_value", "new_value", "changed_at", "case", "changed_by"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InsuredPerson)
class InsuredPersonAdmin(admin.ModelAdmin):
    list_display = ["id_number", "last_names", "first_names", "insured_type", "email"]
    search_fields = ["id_number", "last_names", "first_names", "email"]
    list_filter = ["insured_type"]
    inlines = [ContactDataChangeInline]
