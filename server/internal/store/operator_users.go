package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Roles of operator accounts and API tokens, from least to most powerful.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Operator-side sentinel errors.
var (
	// ErrLastAdmin refuses a change that would leave no enabled admin account.
	ErrLastAdmin = errors.New("the last enabled admin cannot be removed, disabled or demoted")
	// ErrSetupDone refuses the first-admin setup once an account exists.
	ErrSetupDone = errors.New("the first admin account already exists")
	// ErrSetupTokenInvalid is an unknown or expired setup token.
	ErrSetupTokenInvalid = errors.New("setup token invalid or expired")
)

// User is an operator account.
type User struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         string
	PasswordHash string
	DisabledAt   *time.Time
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewUser describes an account to create. PasswordHash is already hashed.
type NewUser struct {
	Email        string
	Name         string
	Role         string
	PasswordHash string
}

// SetupToken is the hash of a one-time token that lets the first admin be created.
type SetupToken struct {
	TokenHash string `gorm:"primaryKey"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NormalizeEmail is how emails are stored and looked up.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func newUserRow(in NewUser, now time.Time) User {
	return User{ID: uuid.NewString(), Email: NormalizeEmail(in.Email), Name: in.Name, Role: in.Role,
		PasswordHash: in.PasswordHash, CreatedAt: now, UpdatedAt: now}
}

// CreateUser adds an account. A taken email answers ErrConflict.
func (s *Store) CreateUser(ctx context.Context, in NewUser) (User, error) {
	if in.Email == "" || in.Role == "" || in.PasswordHash == "" {
		return User{}, fmt.Errorf("%w: email, role and password are required", ErrInvalidArgument)
	}
	u := newUserRow(in, s.now())
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if isUniqueViolation(err) {
			return User{}, fmt.Errorf("%w: an account with this email exists", ErrConflict)
		}
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// CountUsers returns how many accounts exist.
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// CreateFirstAdmin creates the first account, as admin, only while none exists. When
// setupTokenHash is not empty it must name an unexpired setup token; every setup token
// is deleted once the account exists.
func (s *Store) CreateFirstAdmin(ctx context.Context, in NewUser, setupTokenHash string) (User, error) {
	in.Role = RoleAdmin
	now := s.now()
	u := newUserRow(in, now)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if s.dialect == DialectPostgres {
			// Serialises concurrent setups: the second one sees the first one's account.
			if err := tx.Exec("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
				return fmt.Errorf("store: lock users: %w", err)
			}
		}
		var n int64
		if err := tx.Model(&User{}).Count(&n).Error; err != nil {
			return fmt.Errorf("store: count users: %w", err)
		}
		if n > 0 {
			return ErrSetupDone
		}
		if setupTokenHash != "" {
			var st SetupToken
			if err := tx.Where("token_hash = ? AND expires_at > ?", setupTokenHash, now).Take(&st).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return ErrSetupTokenInvalid
				}
				return fmt.Errorf("store: setup token: %w", err)
			}
		}
		if err := tx.Create(&u).Error; err != nil {
			return fmt.Errorf("store: create first admin: %w", err)
		}
		if err := tx.Where("1 = 1").Delete(&SetupToken{}).Error; err != nil {
			return fmt.Errorf("store: clear setup tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// AddSetupToken stores the hash of a setup token (one per server start while no account exists).
func (s *Store) AddSetupToken(ctx context.Context, hash string, ttl time.Duration) error {
	now := s.now()
	st := SetupToken{TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.db.WithContext(ctx).Create(&st).Error; err != nil {
		return fmt.Errorf("store: add setup token: %w", err)
	}
	return nil
}

// UserByID loads an account.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return User{}, notFound(err)
	}
	return u, nil
}

// UserByEmail loads an account by email (any case).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error; err != nil {
		return User{}, notFound(err)
	}
	return u, nil
}

// ListUsers lists accounts by email.
func (s *Store) ListUsers(ctx context.Context, page PageRequest) ([]User, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&User{})
	if ok {
		q = q.Where("(email, id) > (?, ?)", c.V, c.I)
	}
	limit := page.limit()
	var out []User
	if err := q.Order("email, id").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list users: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(last.Email, last.ID)
	}
	return out, next, nil
}

// UserUpdate changes an account; nil fields stay as they are.
type UserUpdate struct {
	Name         *string
	Role         *string
	Disabled     *bool
	PasswordHash *string
}

// UpdateUser applies a change. Demoting or disabling the last enabled admin answers
// ErrLastAdmin. Disabling an account revokes its sessions.
func (s *Store) UpdateUser(ctx context.Context, id string, in UserUpdate) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
			return notFound(err)
		}
		now := s.now()
		losesAdmin := u.Role == RoleAdmin && u.DisabledAt == nil &&
			((in.Role != nil && *in.Role != RoleAdmin) || (in.Disabled != nil && *in.Disabled))
		if losesAdmin {
			if err := requireOtherAdmin(tx, id); err != nil {
				return err
			}
		}
		if in.Name != nil {
			u.Name = *in.Name
		}
		if in.Role != nil {
			u.Role = *in.Role
		}
		if in.PasswordHash != nil {
			u.PasswordHash = *in.PasswordHash
		}
		if in.Disabled != nil {
			switch {
			case *in.Disabled && u.DisabledAt == nil:
				u.DisabledAt = &now
				if err := revokeSessions(tx, id, "", now); err != nil {
					return err
				}
			case !*in.Disabled:
				u.DisabledAt = nil
			}
		}
		u.UpdatedAt = now
		if err := tx.Select("name", "role", "password_hash", "disabled_at", "updated_at").Save(&u).Error; err != nil {
			return fmt.Errorf("store: update user: %w", err)
		}
		return nil
	})
	return u, err
}

// DeleteUser removes an account with its sessions and API tokens.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.lockAdmins(tx); err != nil {
			return err
		}
		var u User
		if err := tx.Where("id = ?", id).Take(&u).Error; err != nil {
			return notFound(err)
		}
		if u.Role == RoleAdmin && u.DisabledAt == nil {
			if err := requireOtherAdmin(tx, id); err != nil {
				return err
			}
		}
		for _, m := range []any{&Session{}, &APIToken{}} {
			if err := tx.Where("user_id = ?", id).Delete(m).Error; err != nil {
				return fmt.Errorf("store: delete user: %w", err)
			}
		}
		if err := tx.Where("id = ?", id).Delete(&User{}).Error; err != nil {
			return fmt.Errorf("store: delete user: %w", err)
		}
		return nil
	})
}

// lockAdmins serialises changes that could remove the last admin (PostgreSQL; SQLite
// has one writer at a time anyway).
func (s *Store) lockAdmins(tx *gorm.DB) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	var ids []string
	if err := tx.Model(&User{}).Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("role = ? AND disabled_at IS NULL", RoleAdmin).Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("store: lock admins: %w", err)
	}
	return nil
}

func requireOtherAdmin(tx *gorm.DB, id string) error {
	var n int64
	if err := tx.Model(&User{}).Where("role = ? AND disabled_at IS NULL AND id <> ?", RoleAdmin, id).Count(&n).Error; err != nil {
		return fmt.Errorf("store: count admins: %w", err)
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// RecordLogin notes a successful login.
func (s *Store) RecordLogin(ctx context.Context, userID string) error {
	if err := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", userID).Update("last_login_at", s.now()).Error; err != nil {
		return fmt.Errorf("store: record login: %w", err)
	}
	return nil
}
