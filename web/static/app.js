// pinhole web UI: progressive enhancement only. Every page works without this file; with it,
// placeholders are painted from blurhashes, albums get arrows and dots, likes and follows
// happen in place, long lists load as you scroll, and the composer uploads with progress.
"use strict";

(function () {
  const csrfToken = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  // ---- blurhash (https://blurha.sh algorithm) ---------------------------------------------
  const DIGITS =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
  const decode83 = (s) => {
    let value = 0;
    for (const c of s) {
      const digit = DIGITS.indexOf(c);
      if (digit < 0) throw new Error("bad blurhash");
      value = value * 83 + digit;
    }
    return value;
  };
  const toLinear = (v) => {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
  };
  const toSRGB = (v) => {
    const x = Math.max(0, Math.min(1, v));
    return x <= 0.0031308
      ? Math.round(x * 12.92 * 255 + 0.5)
      : Math.round((1.055 * Math.pow(x, 1 / 2.4) - 0.055) * 255 + 0.5);
  };
  const signPow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);

  function averageColour(hash) {
    const dc = decode83(hash.substring(2, 6));
    return `rgb(${dc >> 16}, ${(dc >> 8) & 255}, ${dc & 255})`;
  }

  function decodeBlurhash(hash, width, height) {
    const sizeFlag = decode83(hash[0]);
    const ny = Math.floor(sizeFlag / 9) + 1;
    const nx = (sizeFlag % 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) throw new Error("bad blurhash length");
    const maxAc = (decode83(hash[1]) + 1) / 166;
    const colours = [];
    const dc = decode83(hash.substring(2, 6));
    colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (let i = 1; i < nx * ny; i++) {
      const v = decode83(hash.substring(4 + i * 2, 6 + i * 2));
      const q = (n) => signPow((n - 9) / 9, 2) * maxAc;
      colours.push([q(Math.floor(v / 361)), q(Math.floor(v / 19) % 19), q(v % 19)]);
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < ny; j++) {
          const cy = Math.cos((Math.PI * y * j) / height);
          for (let i = 0; i < nx; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * cy;
            const c = colours[i + j * nx];
            r += c[0] * basis;
            g += c[1] * basis;
            b += c[2] * basis;
          }
        }
        const p = 4 * (x + y * width);
        pixels[p] = toSRGB(r);
        pixels[p + 1] = toSRGB(g);
        pixels[p + 2] = toSRGB(b);
        pixels[p + 3] = 255;
      }
    }
    return pixels;
  }

  function paintPlaceholder(frame) {
    const hash = frame.dataset.blurhash;
    if (!hash || frame.dataset.painted) return;
    frame.dataset.painted = "1";
    try {
      // The average colour first (instant), then the blurred picture over it.
      frame.style.backgroundColor = averageColour(hash);
      const size = 32;
      const canvas = document.createElement("canvas");
      canvas.width = size;
      canvas.height = size;
      const context = canvas.getContext("2d");
      const image = context.createImageData(size, size);
      image.data.set(decodeBlurhash(hash, size, size));
      context.putImageData(image, 0, 0);
      frame.style.backgroundImage = `url(${canvas.toDataURL()})`;
    } catch (error) {
      // A malformed hash leaves the neutral placeholder colour from the stylesheet.
    }
  }

  const placeholderObserver =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (entry.isIntersecting) {
                paintPlaceholder(entry.target);
                placeholderObserver.unobserve(entry.target);
              }
            }
          },
          { rootMargin: "600px 0px" }
        )
      : null;

  function enhanceMedia(root) {
    for (const frame of root.querySelectorAll(".media-frame[data-blurhash]")) {
      const img = frame.querySelector("img");
      if (img && !img.complete) {
        img.classList.add("loading");
        const shown = () => img.classList.remove("loading");
        img.addEventListener("load", shown, { once: true });
        img.addEventListener("error", shown, { once: true });
      }
      if (img && img.complete) continue; // already decoded: no placeholder needed
      if (placeholderObserver) placeholderObserver.observe(frame);
      else paintPlaceholder(frame);
    }
  }

  // ---- albums ------------------------------------------------------------------------------
  function enhanceAlbum(album) {
    if (album.dataset.enhanced) return;
    album.dataset.enhanced = "1";
    const track = album.querySelector(".album-track");
    const items = track ? track.children : [];
    if (!track || items.length < 2) return;
    const prev = album.querySelector(".album-prev");
    const next = album.querySelector(".album-next");
    const dots = album.nextElementSibling && album.nextElementSibling.classList.contains("album-dots")
      ? album.nextElementSibling.children
      : [];
    const counter = album.querySelector("[data-album-index]");
    const current = () => Math.round(track.scrollLeft / Math.max(track.clientWidth, 1));
    const go = (index) => {
      const target = Math.max(0, Math.min(items.length - 1, index));
      const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
      track.scrollTo({ left: target * track.clientWidth, behavior: still ? "auto" : "smooth" });
    };
    const update = () => {
      const index = current();
      if (prev) prev.disabled = index === 0;
      if (next) next.disabled = index === items.length - 1;
      for (let i = 0; i < dots.length; i++) {
        if (i === index) dots[i].setAttribute("aria-current", "true");
        else dots[i].removeAttribute("aria-current");
      }
      if (counter) counter.textContent = String(index + 1);
      for (let i = 0; i < items.length; i++) items[i].setAttribute("aria-hidden", String(i !== index));
    };
    if (prev) {
      prev.hidden = false;
      prev.addEventListener("click", () => go(current() - 1));
    }
    if (next) {
      next.hidden = false;
      next.addEventListener("click", () => go(current() + 1));
    }
    let frame = 0;
    track.addEventListener("scroll", () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(update);
    });
    track.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight") {
        event.preventDefault();
        go(current() + 1);
      } else if (event.key === "ArrowLeft") {
        event.preventDefault();
        go(current() - 1);
      }
    });
    update();
  }

  // ---- likes (button and double-tap) ------------------------------------------------------
  async function postForm(form, url, extraHeaders) {
    const response = await fetch(url || form.action, {
      method: "POST",
      body: new FormData(form),
      headers: Object.assign(
        { Accept: "application/json", "X-CSRF-Token": csrfToken() },
        extraHeaders || {}
      ),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  function likeState(post) {
    const form = post.querySelector("form[data-like-form]");
    const button = form && form.querySelector(".like-button");
    return { form, button, liked: button && button.getAttribute("aria-pressed") === "true" };
  }

  async function toggleLike(post, wantLiked) {
    const { form, button, liked } = likeState(post);
    if (!form || liked === wantLiked || form.dataset.busy) return;
    form.dataset.busy = "1";
    const url = `${post.dataset.postPath}/${wantLiked ? "like" : "unlike"}`;
    // Optimistic: show the new state at once, put it back if the server says no.
    setLiked(post, wantLiked, null);
    try {
      const result = await postForm(form, url);
      setLiked(post, result.liked, result.count);
    } catch (error) {
      setLiked(post, liked, null);
    } finally {
      delete form.dataset.busy;
    }
  }

  function setLiked(post, liked, count) {
    const { form, button } = likeState(post);
    if (!button) return;
    button.setAttribute("aria-pressed", String(liked));
    button.classList.toggle("pop", liked);
    form.action = `${post.dataset.postPath}/${liked ? "unlike" : "like"}`;
    const counter = post.querySelector("[data-like-count]");
    if (counter) {
      let value = Number(counter.dataset.likeCount);
      value = count === null ? value + (liked ? 1 : -1) : count;
      counter.dataset.likeCount = String(Math.max(0, value));
      const text = counter.querySelector("[data-like-count-text]");
      if (text) text.textContent = String(Math.max(0, value));
      counter.lastChild.textContent = value === 1 ? " like" : " likes";
    }
  }

  function showHeart(album) {
    const heart = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    heart.setAttribute("class", "icon heart-burst");
    heart.setAttribute("aria-hidden", "true");
    const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    const sprite = document.querySelector(".icon use");
    const base = sprite ? sprite.getAttribute("href").split("#")[0] : "/static/icons.svg";
    use.setAttribute("href", `${base}#i-heart-filled`);
    heart.appendChild(use);
    album.appendChild(heart);
    heart.addEventListener("animationend", () => heart.remove());
  }

  function enhancePost(post) {
    if (post.dataset.enhanced) return;
    post.dataset.enhanced = "1";
    const form = post.querySelector("form[data-like-form]");
    if (form) {
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        toggleLike(post, !likeState(post).liked);
      });
    }
    const album = post.querySelector("[data-album]");
    if (album && form) {
      // Double-tap (or double-click) the photo to like it, as in every photo app.
      let lastTap = 0;
      const liked = () => {
        showHeart(album);
        toggleLike(post, true);
      };
      album.addEventListener("dblclick", (event) => {
        event.preventDefault();
        liked();
      });
      album.addEventListener("touchend", (event) => {
        if (event.target.closest("button")) return;
        const now = Date.now();
        if (now - lastTap < 300) {
          event.preventDefault();
          lastTap = 0;
          liked();
        } else {
          lastTap = now;
        }
      });
    }
  }

  // ---- infinite scroll over plain "next page" links ----------------------------------------
  function enhanceInfinite(root) {
    const link = root.querySelector("a[data-infinite-next]");
    const list = document.querySelector("[data-infinite-list]");
    if (!link || !list || !("IntersectionObserver" in window) || link.dataset.watched) return;
    link.dataset.watched = "1";
    const pager = link.closest(".pager");
    const observer = new IntersectionObserver(
      async (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer.disconnect();
        pager.classList.add("loading");
        link.hidden = true;
        try {
          const response = await fetch(link.href, {
            headers: { Accept: "text/html" },
            credentials: "same-origin",
          });
          const html = await response.text();
          const doc = new DOMParser().parseFromString(html, "text/html");
          const more = doc.querySelector("[data-infinite-list]");
          const fresh = [];
          if (more) {
            for (const child of Array.from(more.children)) {
              const adopted = document.importNode(child, true);
              list.appendChild(adopted);
              fresh.push(adopted);
            }
          }
          const nextPager = doc.querySelector(".pager");
          if (nextPager) {
            const adoptedPager = document.importNode(nextPager, true);
            pager.replaceWith(adoptedPager);
            enhanceInfinite(adoptedPager.parentNode);
          } else {
            pager.remove();
          }
          for (const node of fresh) enhance(node);
        } catch (error) {
          pager.classList.remove("loading");
          link.hidden = false;
        }
      },
      { rootMargin: "800px 0px" }
    );
    observer.observe(link);
  }

  // ---- small things -----------------------------------------------------------------------
  function enhanceCharCount(root) {
    for (const field of root.querySelectorAll("[data-char-count]")) {
      const limit = Number(field.dataset.charCount);
      const output = field.parentElement.querySelector(".char-count");
      if (!output) continue;
      const update = () => {
        const used = [...field.value].length;
        output.textContent = `${used.toLocaleString()} / ${limit.toLocaleString()}`;
        output.classList.toggle("over", used > limit);
      };
      field.addEventListener("input", update);
      update();
    }
  }

  function enhanceConfirm(root) {
    for (const form of root.querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    }
  }

  function enhanceShare(root) {
    for (const button of root.querySelectorAll("[data-share]")) {
      if (!navigator.clipboard && !navigator.share) continue;
      button.hidden = false;
      button.addEventListener("click", async () => {
        const url = button.dataset.share;
        try {
          if (navigator.share && matchMedia("(pointer: coarse)").matches) {
            await navigator.share({ url });
          } else {
            await navigator.clipboard.writeText(url);
            button.setAttribute("aria-label", "Link copied");
            button.title = "Link copied";
          }
        } catch (error) {
          // Cancelled by the person: nothing to do.
        }
      });
    }
  }


  // ---- composer: upload each file at once with a progress bar, then wait for processing ----
  function composer() {
    const root = document.querySelector("[data-compose]");
    if (!root) return;
    const form = root.querySelector("form");
    const input = form.querySelector('input[type="file"]');
    const dropzone = form.querySelector("[data-dropzone]");
    const tiles = form.querySelector("[data-tiles]");
    const template = document.getElementById("tile-template");
    const submit = form.querySelector('button[type="submit"]');
    const notice = form.querySelector("[data-compose-notice]");
    if (!input) return; // no uploads on this node: the caption form needs no script
    const maxItems = Number(form.dataset.maxItems || 20);
    const uploadUrl = form.dataset.uploadUrl;
    const submitLabel = submit.textContent;
    // Files go up one by one as they are picked; the form then only sends their ids.
    input.removeAttribute("name");
    for (const element of form.querySelectorAll("[data-without-script]")) element.hidden = true;

    const pending = () => tiles.querySelectorAll('.tile:not([data-state="ready"])').length;
    const count = () => tiles.querySelectorAll(".tile").length;

    function refresh() {
      let position = 0;
      for (const tile of tiles.querySelectorAll(".tile")) {
        position += 1;
        tile.querySelector(".tile-number").textContent = String(position);
        tile.querySelector(".tile-alt-label").textContent = `Describe item ${position} (alt text)`;
        tile.querySelector("[data-move='-1']").disabled = position === 1;
        tile.querySelector("[data-move='1']").disabled = position === count();
      }
      const waiting = pending();
      const failed = tiles.querySelectorAll('.tile[data-state="failed"]').length;
      submit.disabled = waiting > 0 || (count() === 0 && !form.elements.text.value.trim());
      submit.textContent = waiting > failed ? "Processing…" : submitLabel;
      if (notice) {
        notice.textContent = failed
          ? "Remove the items that could not be uploaded to share your post."
          : "";
      }
    }

    function setStatus(tile, state, text) {
      tile.dataset.state = state;
      const status = tile.querySelector(".tile-status");
      status.textContent = text;
      status.className = `tile-status ${state}`;
      refresh();
    }

    async function waitUntilProcessed(tile, id) {
      for (let attempt = 0; attempt < 600; attempt++) {
        const response = await fetch(`${uploadUrl}/${id}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.ok) {
          const media = await response.json();
          if (media.state === "ready") return setStatus(tile, "ready", "Ready");
          if (media.state === "failed") {
            return setStatus(tile, "failed", media.error || "Could not be processed");
          }
        }
        await new Promise((resolve) => setTimeout(resolve, attempt < 20 ? 250 : 1000));
      }
      setStatus(tile, "failed", "Processing is taking too long");
    }

    function upload(file) {
      if (count() >= maxItems) {
        if (notice) notice.textContent = `At most ${maxItems} photos or videos per post.`;
        return;
      }
      const tile = template.content.firstElementChild.cloneNode(true);
      const preview = tile.querySelector(".tile-preview");
      const url = URL.createObjectURL(file);
      const media = document.createElement(file.type.startsWith("video/") ? "video" : "img");
      media.src = url;
      if (media.tagName === "IMG") media.alt = "";
      else media.muted = true;
      preview.prepend(media);
      tile.querySelector(".tile-name").textContent = file.name;
      tiles.appendChild(tile);
      const progress = tile.querySelector("progress");
      setStatus(tile, "uploading", "Uploading… 0%");

      const data = new FormData();
      data.append("file", file);
      const request = new XMLHttpRequest();
      request.open("POST", uploadUrl);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRF-Token", csrfToken());
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.round((event.loaded / event.total) * 100);
        progress.value = percent;
        tile.querySelector(".tile-status").textContent = `Uploading… ${percent}%`;
      });
      request.addEventListener("load", () => {
        let body = {};
        try {
          body = JSON.parse(request.responseText);
        } catch (error) {
          body = {};
        }
        if (request.status >= 300 || !body.id) {
          progress.hidden = true;
          return setStatus(tile, "failed", body.error || "Upload failed");
        }
        progress.value = 100;
        progress.hidden = true;
        tile.querySelector('input[name="media_ids"]').value = body.id;
        const alt = tile.querySelector("textarea");
        alt.name = `description_${body.id}`;
        alt.id = `description_${body.id}`;
        tile.querySelector(".tile-alt-label").htmlFor = alt.id;
        setStatus(tile, "processing", "Processing…");
        waitUntilProcessed(tile, body.id);
      });
      request.addEventListener("error", () => setStatus(tile, "failed", "Upload failed"));
      request.send(data);
    }

    input.addEventListener("change", () => {
      for (const file of input.files) upload(file);
      input.value = "";
    });
    for (const type of ["dragenter", "dragover"]) {
      dropzone.addEventListener(type, (event) => {
        if (!event.dataTransfer || !event.dataTransfer.types.includes("Files")) return;
        event.preventDefault();
        dropzone.classList.add("dragging");
      });
    }
    dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
    dropzone.addEventListener("drop", (event) => {
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      dropzone.classList.remove("dragging");
      for (const file of event.dataTransfer.files) upload(file);
    });

    // Reorder with buttons (keyboard) or by dragging tiles.
    tiles.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      const tile = button.closest(".tile");
      if (button.dataset.move) {
        const sibling =
          button.dataset.move === "-1" ? tile.previousElementSibling : tile.nextElementSibling;
        if (!sibling) return;
        if (button.dataset.move === "-1") tiles.insertBefore(tile, sibling);
        else tiles.insertBefore(sibling, tile);
        button.focus();
      } else if (button.dataset.remove !== undefined) {
        tile.remove();
      }
      refresh();
    });
    let dragged = null;
    tiles.addEventListener("dragstart", (event) => {
      dragged = event.target.closest(".tile");
      if (dragged) event.dataTransfer.effectAllowed = "move";
    });
    tiles.addEventListener("dragover", (event) => {
      const over = event.target.closest(".tile");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      const after = [...tiles.children].indexOf(over) > [...tiles.children].indexOf(dragged);
      tiles.insertBefore(dragged, after ? over.nextSibling : over);
    });
    tiles.addEventListener("dragend", () => {
      dragged = null;
      refresh();
    });
    form.elements.text.addEventListener("input", refresh);
    form.addEventListener("submit", (event) => {
      if (pending() > 0) {
        event.preventDefault();
        return;
      }
      submit.disabled = true;
      submit.textContent = "Sharing…";
    });
    refresh();
  }

  // ---- direct messages: live over the session's WebSocket, plain reloads without it --------
  function chat() {
    const root = document.querySelector("[data-chat-live]");
    if (!root || !("WebSocket" in window)) return;
    const conversationId = root.dataset.conversationId || "";
    const form = root.querySelector("[data-chat-form]");
    const typingLine = root.querySelector("[data-typing]");
    let typingTimer = 0;
    let lastTypingSent = 0;
    let refreshing = null;
    let live = null;
    window.addEventListener("pagehide", () => live && live.close());

    const scrollToEnd = () => {
      const log = root.querySelector("[data-chat-log]");
      if (log) log.scrollTop = log.scrollHeight;
    };

    // Fetch this page again and take what is new: messages, the list, the "Seen" line.
    async function refresh() {
      if (refreshing) return refreshing;
      refreshing = (async () => {
        const response = await fetch(location.pathname, {
          headers: { Accept: "text/html" },
          credentials: "same-origin",
        });
        if (!response.ok) return;
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const list = root.querySelector(".conversation-list");
        const freshList = doc.querySelector(".conversation-list");
        if (freshList && list) list.replaceWith(document.importNode(freshList, true));
        const log = root.querySelector("[data-chat-log]");
        const freshLog = doc.querySelector("[data-chat-log]");
        if (!log || !freshLog) return;
        for (const seen of log.querySelectorAll("[data-seen]")) seen.remove();
        let answered = false;
        for (const item of freshLog.children) {
          const id = item.dataset.messageId;
          if (id && log.querySelector(`[data-message-id="${id}"]`)) continue;
          if (!id && !item.hasAttribute("data-seen")) continue;
          log.appendChild(document.importNode(item, true));
          answered = answered || (Boolean(id) && !item.classList.contains("mine"));
        }
        // Whoever was typing has sent their message; a read receipt leaves "Typing…" alone.
        if (answered && typingLine) typingLine.textContent = "";
        scrollToEnd();
      })();
      try {
        await refreshing;
      } finally {
        refreshing = null;
      }
    }

    // An event can come a moment before what it announces is readable: look again briefly
    // until the conversation (and, in the open chat, its latest message) is on the page.
    async function refreshUntilShown(conversation, attempt) {
      await refresh();
      const id = String(conversation.id || "");
      const latest = conversation.last_status ? String(conversation.last_status.id) : "";
      const listed = !id || root.querySelector(`.conversation-list a[href="/messages/${id}"]`);
      const shown =
        id !== conversationId || !latest || root.querySelector(`[data-message-id="${latest}"]`);
      if ((!listed || !shown) && attempt < 10) {
        setTimeout(() => refreshUntilShown(conversation, attempt + 1), 200 * (attempt + 1));
      }
    }

    function connect(delay) {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const socket = new WebSocket(`${scheme}://${location.host}/messages/live`);
      socket.addEventListener("open", () => {
        delay = 1000;
        root.dataset.live = "1";
      });
      live = socket;
      socket.addEventListener("message", (message) => {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        let payload = {};
        try {
          payload = JSON.parse(data.payload);
        } catch (error) {
          payload = {};
        }
        const about = String(payload.conversation_id || payload.id || "");
        if (data.event === "conversation") {
          refreshUntilShown(payload, 0);
        } else if (data.event === "pinhole.typing" && about === conversationId && typingLine) {
          typingLine.textContent = "Typing…";
          clearTimeout(typingTimer);
          typingTimer = setTimeout(() => (typingLine.textContent = ""), 4000);
        } else if (data.event === "pinhole.read" && about === conversationId) {
          refresh();
        }
      });
      socket.addEventListener("close", () => {
        delete root.dataset.live;
        setTimeout(() => connect(Math.min(delay * 2, 30000)), delay);
      });
    }

    if (form) {
      const input = form.elements.text;
      input.addEventListener("input", () => {
        const now = Date.now();
        if (now - lastTypingSent < 3000 || !input.value) return;
        lastTypingSent = now;
        fetch(`/messages/${conversationId}/typing`, {
          method: "POST",
          headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
          credentials: "same-origin",
        }).catch(() => {});
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (!input.value.trim()) return;
        const button = form.querySelector('button[type="submit"]');
        button.disabled = true;
        try {
          await postForm(form);
          input.value = "";
          await refresh();
        } catch (error) {
          form.submit();
        } finally {
          button.disabled = false;
          input.focus();
        }
      });
    }
    scrollToEnd();
    connect(1000);
  }

  function enhance(root) {
    enhanceMedia(root);
    for (const album of root.querySelectorAll("[data-album]")) enhanceAlbum(album);
    for (const post of root.querySelectorAll("[data-post]")) enhancePost(post);
    if (root.matches && root.matches("[data-post]")) enhancePost(root);
    enhanceCharCount(root);
    enhanceConfirm(root);
    enhanceShare(root);
  }

  document.addEventListener("DOMContentLoaded", () => {
    enhance(document);
    enhanceInfinite(document);
    composer();
    chat();
  });
})();
