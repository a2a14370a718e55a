//! Stripe.js, where the server takes cards through Stripe: the card's number, expiry and CVV
//! are typed into Stripe's own card field (its frame, on Stripe's origin), and Stripe.js turns
//! them into a PaymentMethod id, the only thing this page sends. Loaded only on such a server,
//! from the one origin the server's Content-Security-Policy adds for it.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::js_sys::{Function, Object, Promise, Reflect};

/// Stripe.js started with the server's publishable key, and its card field.
#[derive(Clone)]
pub struct CardField {
    stripe: JsValue,
    card: JsValue,
}

/// What went wrong, in words for the page.
pub type Failed = String;

fn get(target: &JsValue, name: &str) -> Result<JsValue, Failed> {
    Reflect::get(target, &JsValue::from_str(name)).map_err(|_| format!("Stripe.js has no {name}"))
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, Failed> {
    let function: Function = get(target, method)?
        .dyn_into()
        .map_err(|_| format!("Stripe.js's {method} is not a function"))?;
    let args: web_sys::js_sys::Array = args.iter().collect();
    function
        .apply(target, &args)
        .map_err(|e| format!("Stripe.js failed: {}", describe(&e)))
}

fn describe(error: &JsValue) -> String {
    get(error, "message")
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "an unknown error".into())
}

/// Adds Stripe.js to the page once; resolves when it has run.
async fn load(script_url: &str) -> Result<(), Failed> {
    let window = web_sys::window().ok_or("no window")?;
    if !get(&window, "Stripe")?.is_undefined() {
        return Ok(());
    }
    let document = window.document().ok_or("no document")?;
    let script = document
        .create_element("script")
        .map_err(|_| "cannot add a script")?;
    script
        .set_attribute("src", script_url)
        .map_err(|_| "cannot add a script")?;
    let loaded = Promise::new(&mut |resolve, reject| {
        let _ = script.add_event_listener_with_callback("load", &resolve);
        let _ = script.add_event_listener_with_callback("error", &reject);
    });
    document
        .body()
        .ok_or("no body")?
        .append_child(&script)
        .map_err(|_| "cannot add a script")?;
    JsFuture::from(loaded).await.map_err(|_| {
        "Stripe's card form could not be loaded. Check your connection and reload the page."
            .to_owned()
    })?;
    Ok(())
}

impl CardField {
    /// Loads Stripe.js and mounts its card field into `into`.
    pub async fn mount(
        script_url: &str,
        publishable_key: &str,
        into: &web_sys::Element,
    ) -> Result<CardField, Failed> {
        load(script_url).await?;
        let window: JsValue = web_sys::window().ok_or("no window")?.into();
        let constructor: Function = get(&window, "Stripe")?
            .dyn_into()
            .map_err(|_| "Stripe.js did not start")?;
        let stripe = constructor
            .call1(&JsValue::NULL, &JsValue::from_str(publishable_key))
            .map_err(|e| format!("Stripe.js did not start: {}", describe(&e)))?;
        let elements = call(&stripe, "elements", &[])?;
        // The billing address's postal code is asked by our form, not again by Stripe's.
        let options = Object::new();
        Reflect::set(&options, &"hidePostalCode".into(), &JsValue::TRUE)
            .map_err(|_| "cannot set Stripe's options")?;
        let card = call(&elements, "create", &["card".into(), options.into()])?;
        call(&card, "mount", &[into.clone().into()])?;
        Ok(CardField { stripe, card })
    }

    /// Empties the field, as the number form empties its own once a card is added: the next
    /// card starts blank, and the one added is not left on the page.
    pub fn clear(&self) {
        if let Err(error) = call(&self.card, "clear", &[]) {
            leptos::logging::warn!("Stripe's card field was not cleared: {error}");
        }
    }

    /// Asks Stripe for the card's PaymentMethod: its id, or Stripe's words for what is wrong
    /// with what was typed (an incomplete number, a past expiry, a declined card).
    pub async fn tokenize(&self, holder_name: &str) -> Result<String, Failed> {
        let details = Object::new();
        let params = Object::new();
        let set = |target: &Object, name: &str, value: &JsValue| {
            Reflect::set(target, &name.into(), value).map_err(|_| "cannot ask Stripe".to_owned())
        };
        set(&details, "name", &holder_name.into())?;
        set(&params, "type", &"card".into())?;
        set(&params, "card", &self.card)?;
        set(&params, "billing_details", &details.into())?;
        let pending: Promise = call(&self.stripe, "createPaymentMethod", &[params.into()])?
            .dyn_into()
            .map_err(|_| "Stripe.js answered no promise")?;
        let result = JsFuture::from(pending)
            .await
            .map_err(|e| format!("Stripe could not be reached: {}", describe(&e)))?;
        let error = get(&result, "error")?;
        if !error.is_undefined() && !error.is_null() {
            return Err(describe(&error));
        }
        get(&get(&result, "paymentMethod")?, "id")?
            .as_string()
            .ok_or_else(|| "Stripe answered no card".to_owned())
    }
}
