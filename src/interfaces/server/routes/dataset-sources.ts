// What the studio can index: the folders of images and IDX files under its data folders (listed
// for the Dataset tab, by a bounded walk), and the uploaded images, written once into a folder
// of the uploads data folder so that a store can reopen them after the uploads are gone.
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { ConvLensError } from '../../../engine/errors.js';
import { isImagePath } from '../../../io/image.js';
import type { FileAccess } from '../../../io/file-access.js';
import type { ImageRegistry } from '../state.js';
import { makeDirectories } from '../../../util/make-directories.js';

/** One indexable entry under a data folder. */
export interface IndexableFolder {
  /** what POST /api/dataset/index takes as `dataset` */
  path: string;
  /** the data folder it lies in, and its path there (for display) */
  root: string;
  relative: string;
  kind: 'images' | 'idx';
  /** images directly in it or in its sub-folders (IDX: the files' own count is not read) */
  images: number;
  /** sub-folders holding images (ImageFolder classes) */
  classes: string[];
}

/** How far and how wide the walk goes: the listing stays quick on any tree. */
const MAX_DEPTH = 3;
const MAX_FOLDERS_VISITED = 2000;
const MAX_LISTED = 200;

/** Folders of images (directly or one class folder deep) and IDX folders under the data folders, shallow ones first. */
export async function indexableFolders(files: FileAccess): Promise<{ roots: string[]; folders: IndexableFolder[] }> {
  const roots = [...(files.roots ?? [])];
  const out: IndexableFolder[] = [];
  let visited = 0;
  const list = async (dir: string): Promise<{ files: string[]; dirs: string[] }> => {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return {
        files: entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name),
        dirs: entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(),
      };
    } catch {
      return { files: [], dirs: [] };
    }
  };
  const queue: { dir: string; root: string; depth: number }[] = roots.map((r) => ({ dir: r, root: r, depth: 0 }));
  while (queue.length && visited < MAX_FOLDERS_VISITED && out.length < MAX_LISTED) {
    const { dir, root, depth } = queue.shift()!;
    visited++;
    // (symbolic links are not followed: a Dirent of a link is neither a file nor a folder)
    if (!files.allows(dir)) continue;
    const here = await list(dir);
    const rel = relative(root, dir) || '.';
    if (here.files.some((f) => /idx\d-ubyte(\.gz)?$/.test(f))) {
      out.push({ path: dir, root, relative: rel, kind: 'idx', images: 0, classes: [] });
      continue;
    }
    const direct = here.files.filter(isImagePath).length;
    const classes: string[] = [];
    let inClasses = 0;
    for (const d of here.dirs) {
      const sub = await list(join(dir, d));
      const n = sub.files.filter(isImagePath).length;
      if (n) {
        classes.push(d);
        inClasses += n;
      }
    }
    if (direct + inClasses > 0) out.push({ path: dir, root, relative: rel, kind: 'images', images: direct + inClasses, classes });
    if (depth < MAX_DEPTH) for (const d of here.dirs) queue.push({ dir: join(dir, d), root, depth: depth + 1 });
  }
  return { roots, folders: out };
}

/** A PNG under a data folder: what the Explain panel offers as a segments mask (POST /api/masks { path }). */
export interface DataFolderPng {
  path: string;
  /** the data folder it lies in, and its path there (for display) */
  root: string;
  relative: string;
}

const MAX_PNGS_LISTED = 500;

/** The PNG files under the data folders (a bounded walk, shallow ones first, symbolic links not followed). */
export async function pngFilesUnder(files: FileAccess): Promise<{ files: DataFolderPng[]; truncated: boolean }> {
  const out: DataFolderPng[] = [];
  const queue = (files.roots ?? []).map((r) => ({ dir: r, root: r, depth: 0 }));
  let visited = 0;
  while (queue.length && visited < MAX_FOLDERS_VISITED && out.length < MAX_PNGS_LISTED) {
    const { dir, root, depth } = queue.shift()!;
    visited++;
    if (!files.allows(dir)) continue;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isFile() && /\.png$/i.test(e.name) && out.length < MAX_PNGS_LISTED) out.push({ path: join(dir, e.name), root, relative: relative(root, join(dir, e.name)) });
      else if (e.isDirectory() && depth < MAX_DEPTH) queue.push({ dir: join(dir, e.name), root, depth: depth + 1 });
    }
  }
  return { files: out, truncated: out.length >= MAX_PNGS_LISTED || queue.length > 0 };
}

/** The studio's token for "the images uploaded to this studio" as a dataset. */
export const UPLOADS_DATASET = 'studio:uploads';

const extensionOf = (bytes: Uint8Array): string =>
  bytes[0] === 0x89 && bytes[1] === 0x50 ? 'png' : bytes[0] === 0xff && bytes[1] === 0xd8 ? 'jpg' : bytes[0] === 0x52 && bytes[1] === 0x49 ? 'webp' : 'img';

/**
 * Writes the uploaded images into a new folder `<uploadsDir>/studio-uploads/<name>` (a temporary
 * folder renamed when complete, so a store never sees half of it) and returns its path.
 */
export async function snapshotUploads(images: ImageRegistry, uploadsDir: string, name: string): Promise<{ path: string; count: number }> {
  const uploads = images.list().filter((i) => i.source === 'upload');
  if (!uploads.length) throw new ConvLensError('INVALID_ARGUMENT', 'No images have been uploaded to this studio.', 'Upload images first (drop them on the page, or POST /api/images), or index a folder.');
  const parent = join(uploadsDir, 'studio-uploads');
  const target = join(parent, name);
  const tmp = join(parent, `.${name}.${process.pid}.${Date.now()}.tmp`);
  makeDirectories(tmp);
  try {
    let n = 0;
    for (const img of uploads) {
      const stem = basename(img.name).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60) || 'image';
      await writeFile(join(tmp, `${String(n++).padStart(3, '0')}-${stem}.${extensionOf(img.bytes)}`), img.bytes);
    }
    // Snapshots are named by the second they are made in: a second one within that second (two
    // stores indexed at once) takes the next free suffix, where the rename used to fail (ENOTEMPTY, a 400).
    for (let suffix = 1; ; suffix++) {
      const path = suffix === 1 ? target : `${target}-${suffix}`;
      try {
        await rename(tmp, path);
        return { path, count: n };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || suffix >= 100) throw e;
      }
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new ConvLensError('INVALID_ARGUMENT', `Cannot write the uploaded images into "${target}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, 'Check that the studio\'s uploads folder is writable, or index a folder.', { cause: e });
  }
}
