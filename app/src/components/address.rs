//! The inputs of a postal address: the billing address's, and a card's (prefilled from it).

use super::{FormErrors, SelectField, TextField};
use leptos::prelude::*;
use shared::billing::{AddressFields, AddressForm};
use shared::country::COUNTRIES;

/// What the user typed into one address, field by field.
#[derive(Clone, Copy)]
pub struct AddressInput {
    pub country: RwSignal<String>,
    pub address_line1: RwSignal<String>,
    pub address_line2: RwSignal<String>,
    pub city: RwSignal<String>,
    pub state: RwSignal<String>,
    pub postal_code: RwSignal<String>,
}

impl AddressInput {
    pub fn new(form: &AddressForm) -> Self {
        Self {
            country: RwSignal::new(form.country.clone()),
            address_line1: RwSignal::new(form.address_line1.clone()),
            address_line2: RwSignal::new(form.address_line2.clone()),
            city: RwSignal::new(form.city.clone()),
            state: RwSignal::new(form.state.clone()),
            postal_code: RwSignal::new(form.postal_code.clone()),
        }
    }

    pub fn set(self, form: &AddressForm) {
        self.country.set(form.country.clone());
        self.address_line1.set(form.address_line1.clone());
        self.address_line2.set(form.address_line2.clone());
        self.city.set(form.city.clone());
        self.state.set(form.state.clone());
        self.postal_code.set(form.postal_code.clone());
    }

    pub fn form(self) -> AddressForm {
        AddressForm {
            country: self.country.get_untracked(),
            address_line1: self.address_line1.get_untracked(),
            address_line2: self.address_line2.get_untracked(),
            city: self.city.get_untracked(),
            state: self.state.get_untracked(),
            postal_code: self.postal_code.get_untracked(),
        }
    }
}

#[component]
pub fn AddressInputs(
    errors: FormErrors,
    /// The request's names of these fields, e.g. `billing_address.city` for a card.
    names: &'static AddressFields,
    address: AddressInput,
) -> impl IntoView {
    view! {
        <SelectField
            errors
            name=names.country
            label="Country/Region"
            value=address.country
            autocomplete="country"
        >
            <option value="">"Select a country or region"</option>
            {COUNTRIES
                .iter()
                .map(|c| view! { <option value=c.code>{c.name}</option> })
                .collect_view()}
        </SelectField>
        <TextField
            errors
            name=names.address_line1
            label="Address"
            value=address.address_line1
            autocomplete="address-line1"
            help="Street and number, P.O. box, or company name."
        />
        <TextField
            errors
            name=names.address_line2
            label="Apartment, suite, unit (optional)"
            value=address.address_line2
            autocomplete="address-line2"
        />
        <div class="field-row">
            <TextField
                errors
                name=names.city
                label="City"
                value=address.city
                autocomplete="address-level2"
            />
            <TextField
                errors
                name=names.state
                label="State/Province"
                value=address.state
                autocomplete="address-level1"
                help="Leave empty where addresses have none, as in Singapore."
            />
        </div>
        <TextField
            errors
            name=names.postal_code
            label="Postal code"
            value=address.postal_code
            autocomplete="postal-code"
            help="Optional. If you give one, write it as used in your country."
        />
    }
}
